// Writes each Jest run's counts to tmp/test-results/<project>.json so `npm test` can print one closing line
// for the whole workspace.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(contexts, results) {
    const [context] = [...contexts];
    const name = String(context?.config.displayName?.name ?? context?.config.displayName ?? 'unnamed');
    const dir = join(__dirname, '../../tmp/test-results');
    mkdirSync(dir, { recursive: true });
    const summary = {
      project: name,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    writeFileSync(join(dir, `${name.replace(/[^\w.-]/g, '_')}.json`), JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
