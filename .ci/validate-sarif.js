// Validates a SARIF log for CI, and fails on any error or warning:
// 1. Microsoft's SARIF Multitool (`validate`: the SARIF 2.1.0 schema plus its SARIF and GitHub
//    rules). npm ships it as a self-contained Linux binary, so no .NET is needed. Its exit status
//    is 0 whatever it finds, so its own SARIF output is read instead; and it is first run on a
//    broken log, which it must reject, so that a validator that checks nothing cannot pass.
// 2. The SARIF 2.1.0 JSON schema shipped in the same package, checked by ajv with formats: the
//    Multitool passes some invalid logs silently (an out-of-range enum value hides every other
//    error in the log).
// Usage: node .ci/validate-sarif.js TOOLS_DIR LOG.sarif   (TOOLS_DIR: the npm --prefix used)
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const [tools, file] = process.argv.slice(2);
if (!tools || !file) {
  console.error('usage: node .ci/validate-sarif.js TOOLS_DIR LOG.sarif');
  process.exit(2);
}
const load = (name) => require(path.resolve(tools, 'node_modules', name));
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8').replace(/^\uFEFF/, ''));

// The package's main module is the path of the platform's binary; npm may not have run the
// platform package's postinstall (`chmod u+x`).
const multitool = load('@microsoft/sarif-multitool');
fs.chmodSync(multitool, 0o755);

/** Runs the Multitool on `log`; returns its errors and warnings as `level rule: message` lines. */
function multitoolProblems(log) {
  const output = `${log}.validation.sarif`;
  const run = spawnSync(
    multitool,
    ['validate', log, '--output', output, '--log', 'ForceOverwrite', '--rule-kind', 'Sarif;Gh',
      '--level', 'Error;Warning'],
    { encoding: 'utf8' },
  );
  if (run.status !== 0 || !fs.existsSync(output)) {
    console.error(run.stdout, run.stderr);
    console.error(`validate-sarif: the SARIF Multitool failed to run (status ${run.status})`);
    process.exit(1);
  }
  const rules = new Map();
  const problems = [];
  for (const r of readJson(output).runs) {
    for (const rule of r.tool.driver.rules || []) rules.set(rule.id, rule);
    for (const result of r.results || []) {
      const level = result.level || 'warning';
      if (level !== 'error' && level !== 'warning') continue;
      const rule = rules.get(result.ruleId);
      const template = result.message.text ||
        (rule && rule.messageStrings && rule.messageStrings[result.message.id] || {}).text || '';
      const text = template.replace(/\{(\d+)\}/g, (_, i) => (result.message.arguments || [])[i]);
      problems.push(`${level} ${result.ruleId}: ${text}`);
    }
  }
  return problems;
}

let failed = false;

// The validator must still catch something: a result without its required message.
const broken = `${file}.broken-on-purpose.sarif`;
fs.writeFileSync(broken, JSON.stringify({
  $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
  version: '2.1.0',
  runs: [{ tool: { driver: { name: 'broken', version: '1' } }, results: [{ ruleId: 'X1' }] }],
}));
if (multitoolProblems(broken).length === 0) {
  console.error('validate-sarif: the SARIF Multitool accepted a log without a result message');
  failed = true;
}

const problems = multitoolProblems(file);
for (const p of problems) console.error(`validate-sarif: ${file}: ${p}`);
failed ||= problems.length > 0;

const Ajv2020 = load('ajv/dist/2020').default;
const addFormats = load('ajv-formats').default;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const schema = readJson(path.join(path.dirname(multitool), 'sarif-2.1.0.json'));
const validate = ajv.compile(schema);
const log = readJson(file);
if (!validate(log)) {
  for (const e of validate.errors) {
    console.error(`validate-sarif: ${file}: schema: ${e.instancePath || '/'} ${e.message}`);
  }
  failed = true;
}

const results = log.runs.reduce((n, r) => n + (r.results || []).length, 0);
if (results === 0) {
  console.error(`validate-sarif: ${file} has no results: nothing was validated`);
  failed = true;
}
if (failed) process.exit(1);
console.log(`validate-sarif: ${file}: valid SARIF 2.1.0 (${results} results; SARIF Multitool and schema)`);
