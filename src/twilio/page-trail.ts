import type { Endpoint } from './endpoint.ts';
import { TwilioError } from './errors.ts';

/** Most pages one walk of the 2010 Calls list reads: 100,000 in-progress calls at its largest page size (1,000). */
export const MAX_CALLS_LIST_PAGES = 100;

// The name of the next-page link in each resource's body, for the error a bad link gets.
const LINK_NAME: Readonly<Record<Endpoint, string>> = { metrics: 'next_page_url', calls: 'next_page_uri', summary: 'next_page_url', settings: 'next_page_url', events: 'next_page_url' };

/**
 * The pages one walk of a Twilio list has read. An upstream controls the next-page links: one that points back
 * at a page already read, or that never ends, would be followed forever; `read` stops both with a
 * `bad_payload` error, so the walk fails instead of running on.
 */
export class PageTrail {
  readonly #read = new Set<string>();
  readonly #endpoint: Endpoint;
  readonly #maxPages: number;

  /** A trail of `endpoint`'s pages, at most `maxPages` of them [no cap]. */
  constructor(endpoint: Endpoint, maxPages = Number.POSITIVE_INFINITY) {
    this.#endpoint = endpoint;
    this.#maxPages = maxPages;
  }

  /** Records the page read at `url`, and checks its link `next` (null on the last page) before it is followed. */
  read(url: string, next: string | null): void {
    this.#read.add(normalize(url));
    if (next === null) return;
    const link = LINK_NAME[this.#endpoint];
    if (this.#read.has(normalize(next))) {
      throw new TwilioError({ code: 'bad_payload', endpoint: this.#endpoint, detail: `${link} points back at a page already read`, url });
    }
    if (this.#read.size >= this.#maxPages) {
      throw new TwilioError({ code: 'bad_payload', endpoint: this.#endpoint, detail: `${link} still leads on after ${this.#maxPages} pages, more than one walk of the list reads`, url });
    }
  }
}

function normalize(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
