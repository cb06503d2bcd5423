/** The v1 (Insights) paging block: absolute URLs (schema `meta` of every Insights list). */
export interface V1Meta {
  page: number;
  page_size: number;
  first_page_url: string;
  previous_page_url: string | null;
  next_page_url: string | null;
  key: string;
  url: string;
}

/** The 2010 flat paging fields: relative URIs (e.g. `ListCallResponse`). */
export interface V2010Paging {
  first_page_uri: string;
  next_page_uri: string | null;
  previous_page_uri: string | null;
  uri: string;
  page: number;
  page_size: number;
  start: number;
  end: number;
}

/** What the paging links of one list response are built from. */
export interface PageLinkInput {
  /** Path of the list, e.g. `/v1/Voice/CA…/Metrics`. */
  readonly path: string;
  /** The caller's filters to carry into every link, in the order they appear. */
  readonly filters: ReadonlyArray<readonly [string, string]>;
  /** Effective page size. */
  readonly pageSize: number;
  /** The `Page` the caller sent (client state, echoed). */
  readonly page: number;
  /** Token of the page that was requested, if any. */
  readonly token: string | undefined;
  /** Token of the next page, if there is one. */
  readonly nextToken: string | undefined;
  /** Token of the previous page, if there is one. */
  readonly previousToken: string | undefined;
}

function link(input: PageLinkInput, page: number, token: string | undefined): string {
  const query = new URLSearchParams();
  for (const [name, value] of input.filters) query.append(name, value);
  query.set('PageSize', String(input.pageSize));
  query.set('Page', String(page));
  if (token !== undefined) query.set('PageToken', token);
  return `${input.path}?${query.toString()}`;
}

/**
 * The v1 `meta` block, as in the spec's `readFull` example: filters and PageSize repeated,
 * `Page=n+1&PageToken=…` on next, `Page=0` on first, and `url` without the token.
 */
export function v1Meta(baseUrl: string, key: string, input: PageLinkInput): V1Meta {
  return {
    page: input.page,
    page_size: input.pageSize,
    first_page_url: baseUrl + link(input, 0, undefined),
    previous_page_url:
      input.previousToken === undefined ? null : baseUrl + link(input, Math.max(0, input.page - 1), input.previousToken),
    next_page_url: input.nextToken === undefined ? null : baseUrl + link(input, input.page + 1, input.nextToken),
    key,
    url: baseUrl + link(input, input.page, undefined),
  };
}

/** The 2010 paging fields, as in `ListCall` examples: relative URIs, `uri` keeps the token. */
export function v2010Paging(input: PageLinkInput, count: number): V2010Paging {
  const start = input.page * input.pageSize;
  return {
    first_page_uri: link(input, 0, undefined),
    next_page_uri: input.nextToken === undefined ? null : link(input, input.page + 1, input.nextToken),
    previous_page_uri:
      input.previousToken === undefined ? null : link(input, Math.max(0, input.page - 1), input.previousToken),
    uri: link(input, input.page, input.token),
    page: input.page,
    page_size: input.pageSize,
    start,
    end: count > 0 ? start + count - 1 : start,
  };
}
