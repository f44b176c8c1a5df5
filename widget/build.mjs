// Builds the widget with esbuild; the one place its options live, so `make widget`,
// `npm run widget` and the test that compares the committed file build the same bytes.
//
//   node widget/build.mjs [OUTFILE]       widget.js (default: the Python package's copy)
//   node widget/build.mjs --tests OUTDIR  each widget/test/*.test.ts as OUTDIR/*.test.mjs
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const args = process.argv.slice(2);

if (args[0] === "--tests") {
  if (!args[1]) throw new Error("--tests needs an output directory");
  const tests = readdirSync(join(here, "test")).filter((f) => f.endsWith(".test.ts"));
  await build({
    entryPoints: tests.sort().map((f) => join(here, "test", f)),
    outdir: args[1],
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
  });
} else {
  await build({
    entryPoints: [join(here, "src", "main.ts")],
    outfile: args[0] || join(root, "src", "threadline", "web", "static", "widget.js"),
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2019",
    legalComments: "none",
    banner: { js: "/* Threadline chat widget, built from widget/src by `make widget` */" },
    logLevel: "warning",
  });
}
