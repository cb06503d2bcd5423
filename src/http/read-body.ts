import type { IncomingMessage } from 'node:http';

/** Why a request body was not read: past the byte limit, or the client went away before its end. */
export type BodyFailure = 'too_large' | 'aborted';

/**
 * Reads a request body into one Buffer of at most `limitBytes`. Past the limit the rest is read and dropped,
 * so the answer reaches a client still sending and the connection stays usable (as express's body parser does);
 * `done` is called once, with the body or the failure.
 */
export function readBody(req: IncomingMessage, limitBytes: number, done: (failure: BodyFailure | undefined, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  // A declared length over the limit is refused without keeping a byte of the body.
  let tooLarge = Number(req.headers['content-length']) > limitBytes;
  let finished = false;
  const finish = (failure: BodyFailure | undefined, body: Buffer): void => {
    if (finished) return;
    finished = true;
    done(failure, body);
  };
  req.on('data', (chunk: Buffer) => {
    length += chunk.length;
    if (length > limitBytes) tooLarge = true;
    if (tooLarge) chunks.length = 0;
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (tooLarge) finish('too_large', Buffer.alloc(0));
    else finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
  });
  req.on('error', () => finish('aborted', Buffer.alloc(0)));
  req.on('close', () => finish('aborted', Buffer.alloc(0)));
}
