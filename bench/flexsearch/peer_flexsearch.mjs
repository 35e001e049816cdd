// The FlexSearch peer of the performance suite (bench/run.sh): FlexSearch's Document index in
// node, on the articles and query mix that bench/export_corpus writes (the same ones mssearch
// and the other peers use). Prints one JSON line, as the C++ benchmark programs do:
//   node peer_flexsearch.mjs --corpus FILE --mix FILE
// or, with --serve PORT, answers GET /api/search?q=&topic=&partial= on 127.0.0.1 (the same
// URLs wrk sends to `mssearch serve`) and prints "listening 127.0.0.1:PORT" once ready.
//
// Configured as a site would use it: English stop words and stemmer (FlexSearch's own "en"
// preset), title indexed by prefix for as-you-type, takeaway and body stored for highlighting,
// topics as tags for filters. The full answer is the body's top 10 with highlighted text plus exact
// topic and year counts over every match (FlexSearch has no facets: the counts come from the
// full list of matching ids). FlexSearch matches all words of a query and has no phrases.
import fs from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { Document, Encoder } from "flexsearch";
import english from "flexsearch/lang/en";

const { values: args } = parseArgs({
  options: { corpus: { type: "string" }, mix: { type: "string" }, serve: { type: "string" },
             "corpus-bytes": { type: "string" } },
});
if (!args.corpus || (!args.mix && args.serve === undefined)) {
  console.error("usage: node peer_flexsearch.mjs --corpus FILE (--mix FILE | --serve PORT)");
  process.exit(2);
}

const lines = fs.readFileSync(args.corpus, "utf8").split("\n").filter((l) => l.length > 0);
const articles = lines.map((l) => JSON.parse(l));
const corpusBytes = Number(args["corpus-bytes"] ?? 0);

const rssBefore = process.memoryUsage().rss / 1048576;
const started = performance.now();
const index = new Document({
  encoder: new Encoder(english),
  document: {
    id: "id",
    index: [{ field: "title", tokenize: "forward" }, { field: "takeaway" }, { field: "body" }],
    tag: [{ field: "topics" }],
    store: ["title", "takeaway", "body"],
  },
});
const topicsOf = [], yearOf = [];
for (const a of articles) {
  index.add(a);
  topicsOf[a.id] = a.topics;
  yearOf[a.id] = a.year;
}
const indexMs = performance.now() - started;
const indexRss = process.resourceUsage().maxRSS / 1024;

function options(q, extra) {
  const o = { query: q.q.replaceAll('"', ""), merge: true, ...extra };
  if (q.topic) o.tag = { topics: q.topic };
  return o;
}

// Top 10 with their stored fields (what a results page shows).
function top10(q) {
  return index.search(options(q, { limit: 10, enrich: true }));
}

// Top 10 with highlighted text, and exact topic and year counts over every match. FlexSearch
// highlights the results of one field (pluck): the page is the body's best 10 (as-you-type: the
// title's, the field indexed by prefix).
function fullAnswer(q) {
  const hits = index.search({ ...options(q, { limit: 10, enrich: true }), merge: false, pluck: q.partial ? "title" : "body",
                              highlight: { template: "<mark>$1</mark>", boundary: 240 } });
  const all = index.search(options(q, { limit: articles.length }));
  const topics = new Map(), years = new Map();
  for (const r of all) {
    const id = typeof r === "object" ? r.id : r;
    for (const t of topicsOf[id]) topics.set(t, (topics.get(t) ?? 0) + 1);
    years.set(yearOf[id], (years.get(yearOf[id]) ?? 0) + 1);
  }
  return { total: all.length, hits, topics: [...topics], years: [...years] };
}

if (args.serve !== undefined) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname !== "/api/search") {
      res.writeHead(404).end();
      return;
    }
    const q = { q: url.searchParams.get("q") ?? "", topic: url.searchParams.get("topic") ?? "",
                partial: url.searchParams.get("partial") === "1" };
    const answer = fullAnswer(q);
    const body = JSON.stringify({
      total: answer.total,
      hits: answer.hits.map((h) => ({ id: h.id, title: h.doc?.title, highlight: h.highlight })),
      facets: { topics: answer.topics, years: answer.years },
    });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  server.listen(Number(args.serve), "127.0.0.1", () => {
    console.log(`listening 127.0.0.1:${server.address().port}`);
  });
} else {
  const mix = fs.readFileSync(args.mix, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
  const percentile = (v, p) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))] : 0;
  };
  const latency = (ms) => ({ p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99),
                             mean: ms.reduce((a, b) => a + b, 0) / Math.max(ms.length, 1) });
  const run = (fn) => mix.map((q) => {
    const t = performance.now();
    fn(q);
    return performance.now() - t;
  });
  run(fullAnswer);  // warm up (the JIT)
  const full = run(fullAnswer);
  const top = run(top10);
  let hits = 0;
  for (const q of mix) hits += fullAnswer(q).hits.length;
  const seconds = indexMs / 1000;
  console.log(JSON.stringify({
    engine: "FlexSearch", articles: articles.length, queries: mix.length,
    index_seconds: seconds, index_docs_per_s: articles.length / seconds,
    index_mb_per_s: corpusBytes / 1e6 / seconds, index_peak_rss_mib: indexRss, rss_before_index_mib: rssBefore,
    full: latency(full), top10: latency(top), mean_hits: hits / Math.max(mix.length, 1),
  }));
}
