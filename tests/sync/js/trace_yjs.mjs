// Replays the B4 editing trace (automerge-paper) through Yjs; prints one JSON line.
// usage: node trace_yjs.mjs <trace.json.gz> <batch-size>   (batch 1 = one op per keystroke)
// Batches follow the same rule as benchmarks/bench_crdt_trace.py: a batch ends when the
// cursor jumps or after <batch-size> keystrokes; each batch is one Yjs transaction.
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import * as Y from 'yjs'

const [path, batchArg] = process.argv.slice(2)
const maxBatch = Number(batchArg || 1)
const trace = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'))
const patches = trace.txns.map((t) => t.patches[0])
const batches = []
let current = []
let last = null
for (const p of patches) {
  if (current.length && (Math.abs(p[0] - last) > 1 || current.length >= maxBatch)) {
    batches.push(current)
    current = []
  }
  current.push(p)
  last = p[0] + p[2].length
}
if (current.length) batches.push(current)

const doc = new Y.Doc()
const text = doc.getText('body')
let updateBytes = 0
doc.on('update', (u) => { updateBytes += u.length })
const start = process.hrtime.bigint()
for (const batch of batches) {
  doc.transact(() => {
    for (const [pos, del, ins] of batch) {
      if (del) text.delete(pos, del)
      if (ins) text.insert(pos, ins)
    }
  })
}
const ms = Number(process.hrtime.bigint() - start) / 1e6
const ok = text.toString() === trace.endContent
console.log(JSON.stringify({
  ms, batches: batches.length, ok,
  encoded: Y.encodeStateAsUpdate(doc).length, updateBytes
}))
