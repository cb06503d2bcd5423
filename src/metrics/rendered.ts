/**
 * A rendered exposition: its content type and its UTF-8 bytes as chunks in order. The chunks may be buffers the
 * next render reuses, so whoever sends them calls `release()` once they are written (the HTTP route does it when the
 * response closes); an exposition never released keeps its bytes and the next render takes fresh buffers.
 */
export class RenderedExposition {
  readonly contentType: string;
  readonly chunks: readonly Uint8Array[];
  /** Total bytes of the chunks. */
  readonly length: number;
  #release: (() => void) | undefined;

  /** An exposition of `chunks`; `release` hands their memory back for reuse. */
  constructor(contentType: string, chunks: readonly Uint8Array[], release?: () => void) {
    this.contentType = contentType;
    this.chunks = chunks;
    this.length = chunks.reduce((n, c) => n + c.length, 0);
    this.#release = release;
  }

  /** An exposition of one string (fixed bodies, tests). */
  static of(contentType: string, body: string): RenderedExposition {
    return new RenderedExposition(contentType, [Buffer.from(body, 'utf8')]);
  }

  /** The body as one string; valid until `release()`. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** Gives the chunks' memory back for the next render; the chunks must not be read after it. Idempotent. */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}
