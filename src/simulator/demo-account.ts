/**
 * The documented demo credentials the simulator accepts when no account is configured.
 * They are not secrets: anyone can read them here, and they only open a local simulator.
 */
export const DEMO_ACCOUNT = {
  accountSid: 'ACdec0de00000000000000000000000000',
  authToken: 'demo-auth-token',
  apiKeySid: 'SKdec0de00000000000000000000000000',
  apiKeySecret: 'demo-api-key-secret',
} as const;
