import type { ApiRequest, ApiResult } from './api-request.ts';
import { ACCOUNT_SID_PATTERN } from './sid.ts';
import type { Simulator } from './simulator.ts';
import { ApiError, notFoundError } from './twilio-error.ts';

function settingsBody(sim: Simulator, accountSid: string, baseUrl: string): Record<string, unknown> {
  const settings = sim.settings(accountSid);
  return {
    account_sid: accountSid,
    advanced_features: settings.advancedFeatures,
    voice_trace: settings.voiceTrace,
    url: `${baseUrl}/v1/Voice/Settings`,
  };
}

/** The account a Settings request is about: the caller's, or its own SID given as `SubaccountSid`. */
function targetAccount(sim: Simulator, request: ApiRequest, given: string | undefined): string {
  if (given === undefined) return request.accountSid;
  if (!ACCOUNT_SID_PATTERN.test(given)) {
    throw new ApiError(400, sim.variant().invalidParamCode, `Invalid parameter SubaccountSid: ${JSON.stringify(given)}`);
  }
  // Subaccounts are not simulated: only the caller's own account can be named.
  if (given !== request.accountSid) throw notFoundError(request.path);
  return given;
}

/** `GET /v1/Voice/Settings`: `{account_sid, advanced_features, voice_trace, url}`. */
export function fetchSettings(sim: Simulator, request: ApiRequest): ApiResult {
  const account = targetAccount(sim, request, request.query.get('SubaccountSid') ?? undefined);
  return { status: 200, body: settingsBody(sim, account, request.baseUrl) };
}

/** `POST /v1/Voice/Settings` with form fields `AdvancedFeatures`, `VoiceTrace` (`true`/`false`). */
export function updateSettings(sim: Simulator, request: ApiRequest): ApiResult {
  const account = targetAccount(sim, request, request.form.SubaccountSid);
  const flag = (name: string): boolean | undefined => {
    const value = request.form[name];
    if (value === undefined) return undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new ApiError(400, sim.variant().invalidParamCode, `Invalid parameter ${name}: ${JSON.stringify(value)} is not true or false`);
  };
  const advancedFeatures = flag('AdvancedFeatures');
  const voiceTrace = flag('VoiceTrace');
  sim.updateSettings(account, {
    ...(advancedFeatures === undefined ? {} : { advancedFeatures }),
    ...(voiceTrace === undefined ? {} : { voiceTrace }),
  });
  return { status: 200, body: settingsBody(sim, account, request.baseUrl) };
}
