/** The shape of a Twilio Call SID (spec `^CA[0-9a-fA-F]{32}$`): the one place the exporter spells it. */
export const CALL_SID_RE = /^CA[0-9a-fA-F]{32}$/;
/** The shape of a Twilio Account SID (spec `^AC[0-9a-fA-F]{32}$`). */
export const ACCOUNT_SID_RE = /^AC[0-9a-fA-F]{32}$/;
/** The shape of a Twilio API Key SID (spec `^SK[0-9a-fA-F]{32}$`). */
export const API_KEY_SID_RE = /^SK[0-9a-fA-F]{32}$/;

/** The rule a bad Call SID breaks, as error messages name it: `must match ^CA[0-9a-fA-F]{32}$`. */
export const CALL_SID_RULE = `must match ${CALL_SID_RE.source}`;
/** The rule a bad Account SID breaks, as error messages name it. */
export const ACCOUNT_SID_RULE = `must match ${ACCOUNT_SID_RE.source}`;
