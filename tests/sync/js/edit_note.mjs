// A stock Yjs client: opens one Saem note through y-websocket, appends text, waits for text.
// usage: node edit_note.mjs <ws-url> <room> <token> <append> <wait-for> [timeout-ms]
// Prints one JSON line per event: synced, edited, seen (or error) on stdout.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const [url, room, token, append, waitFor, timeoutArg] = process.argv.slice(2)
const timeout = Number(timeoutArg || 20000)
const doc = new Y.Doc()
const body = doc.getText('body')
const provider = new WebsocketProvider(url, room, doc, {
  WebSocketPolyfill: WebSocket,
  params: { token },
  disableBc: true
})
provider.awareness.setLocalStateField('user', { name: 'js-test' })
const emit = (event, extra = {}) => console.log(JSON.stringify({ event, body: body.toString(), ...extra }))
const timer = setTimeout(() => { emit('error', { reason: 'timeout' }); process.exit(2) }, timeout)

provider.on('sync', (synced) => {
  if (!synced || provider._saemStarted) return
  provider._saemStarted = true
  emit('synced')
  if (append) {
    doc.transact(() => body.insert(body.length, append))
    emit('edited')
  }
  const check = () => {
    if (waitFor && body.toString().includes(waitFor)) {
      emit('seen', { update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64') })
      clearTimeout(timer)
      // give the last update time to leave the socket, then disconnect cleanly
      setTimeout(() => { provider.destroy(); process.exit(0) }, 200)
    }
  }
  body.observe(check)
  check()
  if (!waitFor) setTimeout(() => { clearTimeout(timer); provider.destroy(); process.exit(0) }, 500)
})
