// The benchmark scenario in wasm under Node: price a 20-line cart, route it with a 10-rule
// policy, evaluate 5 guards. Prints the median time per run over repeated batches.
//
//   node crates/bench/wasm-bench.mjs <dir of `wasm-bindgen --target nodejs` output>
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const bench = require(join(process.cwd(), process.argv[2], "bench.js"));

const batch = 2000;
bench.run_scenario(batch); // warm up: compile, caches
const samples = [];
for (let i = 0; i < 25; i++) {
  const start = performance.now();
  bench.run_scenario(batch);
  samples.push(((performance.now() - start) * 1000) / batch);
}
samples.sort((a, b) => a - b);
const median = samples[Math.floor(samples.length / 2)];
console.log(`wasm under Node ${process.version}: checkout (price 20 lines + route 10 rules + 5 guards): median ${median.toFixed(2)} µs per run (min ${samples[0].toFixed(2)}, max ${samples[samples.length - 1].toFixed(2)})`);
