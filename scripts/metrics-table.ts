import { metricsTableMarkdown } from '../src/metrics/docs.ts';

process.stdout.write(`${metricsTableMarkdown()}\n`);
