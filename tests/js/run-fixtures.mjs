// Runs the fixture corpus (tests/fixtures) through the JavaScript API, as a plain JS
// storefront would use it, and checks the same expectations as the Rust runs.
//
//   node tests/js/run-fixtures.mjs <package dir (wasm-bindgen --target nodejs)> <check.ts to write>
//
// It also writes a TypeScript file that assigns every valid input and every answer to its
// declared type, so that `tsc --strict` proves types.d.ts describes the real shapes.

import { createRequire } from "node:module";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const [pkgDir, checkTs] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const rules = require(join(process.cwd(), pkgDir, "rules_js.js"));

const fixturesDir = new URL("../fixtures/", import.meta.url).pathname;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".json") ? [path] : [];
  });
}

function merge(base, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = base !== null && typeof base === "object" && !Array.isArray(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

function subset(expected, actual, path) {
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    for (const [k, v] of Object.entries(expected)) {
      if (!(k in actual) || actual[k] === undefined) {
        if (v === null) continue;
        return `${path}.${k}: missing; expected ${JSON.stringify(v)}`;
      }
      const e = subset(v, actual[k], `${path}.${k}`);
      if (e) return e;
    }
    return null;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: expected ${expected.length} items, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const e = subset(expected[i], actual[i], `${path}[${i}]`);
      if (e) return e;
    }
    return null;
  }
  return expected === actual ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

// Each kind: how to answer it with the JS API, and the TypeScript types of its inputs and answer.
const kinds = {
  price: { run: (i) => new rules.Pricing(i.data).price(i.cart), inputs: { data: "PricingData", cart: "Cart" }, answer: "PricedCart" },
  price_breaks: { run: (i) => ({ breaks: new rules.Pricing(i.data).priceBreaks(i.cart, i.sku) }), inputs: { data: "PricingData", cart: "Cart" }, answer: "{ breaks: PriceBreak[] }" },
  route: { run: (i) => new rules.Approvals(i.policy, i.directory).route(i.request), inputs: { policy: "ApprovalPolicy", directory: "Directory", request: "RouteRequest" }, answer: "ApprovalPlan" },
  checkout: {
    run: (i) => rules.checkout(new rules.Pricing(i.data), new rules.Approvals(i.policy, i.directory), i.request),
    inputs: { data: "PricingData", policy: "ApprovalPolicy", directory: "Directory", request: "CheckoutRequest" },
    answer: "CheckoutVerdict",
  },
  workflow_validate: { run: (i) => ({ diagnostics: rules.validateWorkflow(i.definition) }), inputs: { definition: "WorkflowDefinition" }, answer: "{ diagnostics: Diagnostic[] }" },
  workflow_available: { run: (i) => new rules.WorkflowRuntime(i.definition).available(i.instance, i.actor, i.now), inputs: { definition: "WorkflowDefinition", instance: "Instance", actor: "Actor" }, answer: "TransitionOption[]" },
  workflow_fire: {
    run: (i) => {
      const wf = new rules.WorkflowRuntime(i.definition);
      return i.actor ? wf.fire(i.instance, i.transition, i.actor, i.now) : wf.fireTimer(i.instance, i.transition, i.now);
    },
    inputs: { definition: "WorkflowDefinition", instance: "Instance" },
    answer: "Fired",
  },
  workflow_event: { run: (i) => new rules.WorkflowRuntime(i.definition).onEvent(i.instance, i.event, i.now), inputs: { definition: "WorkflowDefinition", instance: "Instance" }, answer: "Fired | null" },
  workflow_timers: {
    run: (i) => {
      const wf = new rules.WorkflowRuntime(i.definition);
      const timers = wf.timers(i.instance, i.now);
      return { timers, due: timers.filter((t) => t.due).map((t) => t.transition), next_deadline: wf.nextDeadline(i.instance) ?? null, explanation: timers.map((t) => t.explanation) };
    },
    inputs: { definition: "WorkflowDefinition", instance: "Instance" },
    answer: "{ timers: TimerStatus[]; due: string[]; next_deadline: string | null; explanation: string[] }",
  },
  condition_text: { run: (i) => { const json = rules.parseCondition(i.text); return { json, printed: rules.printCondition(json) }; }, inputs: {}, answer: "{ json: Condition; printed: string }" },
  condition_print: { run: (i) => ({ printed: rules.printCondition(i.condition) }), inputs: { condition: "Condition" }, answer: "{ printed: string }" },
};

let count = 0, skipped = 0;
const failures = [];
const typed = [];
for (const file of files(fixturesDir).sort()) {
  const doc = JSON.parse(readFileSync(file, "utf8"));
  const cases = doc.cases ? doc.cases.map((c, n) => ({ name: c.name ?? `case ${n}`, kind: c.kind ?? doc.kind, input: c.input ?? merge(doc.base ?? {}, c.patch ?? {}), expect: c.expect })) : [{ name: "case", kind: doc.kind, input: doc.input, expect: doc.expect }];
  for (const c of cases) {
    const kind = kinds[c.kind];
    if (!kind) { skipped++; continue; }
    count++;
    let answer;
    try {
      answer = kind.run(c.input);
      if (answer === undefined) answer = null;
    } catch (e) {
      if (!(e instanceof Error)) { failures.push(`${relative(fixturesDir, file)} / ${c.name}: threw a non-Error: ${e}`); continue; }
      answer = { error: e.message };
      if (e.diagnostics) { answer.error = "invalid definition"; answer.diagnostics = e.diagnostics; }
    }
    const expect = structuredClone(c.expect);
    // The Rust runner compares the reparsed condition with its canonical form; not offered in JS.
    if (c.kind === "condition_print") delete expect.round_trip;
    const problem = subset(expect, answer, "answer");
    if (problem) failures.push(`${relative(fixturesDir, file)} / ${c.name}: ${problem}`);
    if (!(answer && answer.error)) {
      for (const [key, type] of Object.entries(kind.inputs)) if (key in c.input) typed.push([type, c.input[key]]);
      typed.push([kind.answer, answer]);
    }
  }
}
if (checkTs) {
  const lines = [`import type { ${["Actor","ApprovalPlan","ApprovalPolicy","Cart","CheckoutRequest","CheckoutVerdict","Condition","Diagnostic","Directory","Fired","Instance","PriceBreak","PricedCart","PricingData","RouteRequest","TimerStatus","TransitionOption","WorkflowDefinition"].join(", ")} } from "./node/rules_js";`];
  typed.forEach(([type, value], n) => lines.push(`export const v${n}: ${type} = ${JSON.stringify(value)};`));
  writeFileSync(checkTs, lines.join("\n") + "\n");
}
console.log(`${count} fixture cases through the JavaScript API, ${failures.length} failed (${skipped} of other kinds skipped); ${typed.length} values typed for tsc`);
if (failures.length) {
  console.log(failures.join("\n"));
  process.exit(1);
}
