// Runs on a worker thread of the basic-auth pool: bcrypt is slow on purpose, so the event loop never waits for it.
import bcrypt from 'bcryptjs';

/** One bcrypt comparison (the pool's task). */
export default function compare(task: { readonly password: string; readonly hash: string }): boolean {
  return bcrypt.compareSync(task.password, task.hash);
}
