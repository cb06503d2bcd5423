// Import boundaries of the pipeline (`npm run lint` runs this after eslint). Data flows one way:
//   samples (vocabulary, pure parsing) ─► twilio, store ─► quality, calls (sources, registry) ─► poller ─► metrics ─► http
// and the composition root (src/main.ts, src/exporter.ts, src/wiring/) may import anything. Each stage may import only the
// stages before it; an import the other way, or any cycle, fails CI. The simulator is a separate program that
// talks to the exporter only over HTTP: it shares the sample vocabulary and nothing else.
/** Stages and the src/ folders each may import besides itself. */
const stages = {
  config: [],
  samples: [],
  twilio: ['samples'],
  store: ['samples'],
  events: ['samples', 'store', 'calls', 'config', 'twilio'],
  calls: ['samples', 'twilio', 'config'],
  poller: ['samples', 'twilio', 'store', 'calls'],
  metrics: ['samples', 'store', 'config', 'quality'],
  quality: ['samples', 'store'],
  status: ['samples', 'store', 'calls', 'twilio', 'poller', 'quality'],
  http: ['samples', 'store', 'calls', 'metrics', 'config', 'events', 'quality', 'twilio', 'status', 'poller'],
};

/** Single files of a later stage that an earlier one may read: vocabulary and reference data, no behaviour. */
const data = {
  // The schema validates SIDs and edge names, and defaults the verdict rules to Twilio's documented thresholds.
  config: ['^src/samples/(sample|ids)\\.ts$', '^src/quality/thresholds\\.ts$'],
};

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles hide which module owns what; break the cycle by moving the shared piece into the leaf.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...Object.entries(stages).map(([stage, allowed]) => ({
      name: `stage-${stage}`,
      comment: `src/${stage}/ may import only ${allowed.length ? allowed.map((s) => `src/${s}/`).join(', ') : 'nothing else in src/'}: the data flows one way.`,
      severity: 'error',
      from: { path: `^src/${stage}/` },
      to: { path: '^src/', pathNot: [`^src/(${[stage, ...allowed].join('|')})/`, '^src/version\\.ts$', ...(data[stage] ?? [])] },
    })),
    {
      name: 'simulator-stands-alone',
      comment: 'The simulator plays Twilio over HTTP; it shares only the sample vocabulary with the exporter.',
      severity: 'error',
      from: { path: '^src/simulator/' },
      to: { path: '^src/', pathNot: ['^src/simulator/', '^src/samples/sample\\.ts$'] },
    },
    {
      name: 'no-root-from-stages',
      comment: 'Only the composition root (src/exporter.ts and its parts in src/wiring/) wires stages together; a stage never imports it.',
      severity: 'error',
      from: { path: '^src/(?!wiring/)[^/]+/' },
      to: { path: ['^src/(exporter|main|demo)\\.ts$', '^src/wiring/'] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|test|bench|scripts)/' },
  },
};
