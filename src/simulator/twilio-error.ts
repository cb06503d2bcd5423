/** The JSON body Twilio sends with every error (doc-responses; field order as in the reference). */
export interface TwilioErrorBody {
  /** Twilio error code, e.g. 20404. */
  code: number;
  /** Human-readable message. */
  message: string;
  /** `https://www.twilio.com/docs/errors/<code>`. */
  more_info: string;
  /** The HTTP status, repeated. */
  status: number;
}

/** An error that becomes a Twilio error response: an HTTP status, a Twilio code and extra headers. */
export class ApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Twilio error code. */
  readonly code: number;
  /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  /** The wire body of this error. */
  body(): TwilioErrorBody {
    return twilioErrorBody(this.status, this.code, this.message);
  }
}

/** Builds the error body for a status, code and message. */
export function twilioErrorBody(status: number, code: number, message: string): TwilioErrorBody {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** 401/20003 with the challenge header Twilio sends. */
export function authenticationError(message = 'Authenticate'): ApiError {
  return new ApiError(401, 20003, message, { 'WWW-Authenticate': 'Basic realm="Twilio API"' });
}

/** 404/20404 naming the path, as Twilio's stubs do. */
export function notFoundError(path: string): ApiError {
  return new ApiError(404, 20404, `The requested resource ${path} was not found`);
}

/** 405 for a method the route does not support. */
export function methodNotAllowedError(method: string, path: string): ApiError {
  return new ApiError(405, 20004, `Method ${method} not allowed for ${path}`);
}

/** 429/20429: the account has too many requests in flight. */
export function tooManyRequestsError(retryAfterSeconds: number | null): ApiError {
  const headers: Record<string, string> = retryAfterSeconds === null ? {} : { 'Retry-After': String(retryAfterSeconds) };
  return new ApiError(429, 20429, 'Too many requests', headers);
}
