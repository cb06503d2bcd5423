/**
 * A call known to have ended, as the state file keeps it: the registry (src/calls) hands these to the state file
 * (src/store) and takes them back after a restart; the type is shared vocabulary of both.
 */
export interface SavedEndedCall {
  readonly callSid: string;
  readonly accountSid: string;
  /** When the call was first reported ended, epoch ms. */
  readonly endedAtMs: number;
  /** Since when it is remembered (the memory's horizon counts from here), epoch ms. */
  readonly rememberedAtMs: number;
}
