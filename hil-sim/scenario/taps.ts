/**
 * What intermediaries see: a FrameLink wrapper that records every frame the
 * gateway sends and receives on a radio link, and an MQTT client subscribed
 * to `#` on the broker (exactly what a curious broker operator could run).
 */
import mqtt from 'mqtt'
import type { FrameLink } from '../../src/transports/link.ts'

export interface TapRecord {
  /** Frames or publish payloads, in arrival order (copies), up to `limitBytes`. */
  items: Uint8Array[]
  bytes: number
  /** Items not kept because the limit was reached (counted, so a test can tell). */
  skipped: number
}

export function newTapRecord(): TapRecord {
  return { items: [], bytes: 0, skipped: 0 }
}

function keep(rec: TapRecord, b: Uint8Array, limitBytes: number): void {
  if (rec.bytes + b.length > limitBytes) {
    rec.skipped++
    return
  }
  rec.items.push(b.slice())
  rec.bytes += b.length
}

/** Wraps `link` so every frame crossing it, both ways, is copied into `rec`. */
export function tapLink(link: FrameLink, rec: TapRecord, limitBytes: number, onFrame?: (dir: 'up' | 'down', frame: Uint8Array) => void): FrameLink {
  return {
    get mtu() {
      return link.mtu
    },
    get up() {
      return link.up
    },
    async send(frame) {
      keep(rec, frame, limitBytes)
      onFrame?.('down', frame)
      await link.send(frame)
    },
    onFrame(handler) {
      link.onFrame((f) => {
        keep(rec, f, limitBytes)
        onFrame?.('up', f)
        handler(f)
      })
    },
    ...(link.onStateChange ? { onStateChange: (h: (up: boolean) => void) => link.onStateChange!(h) } : {}),
    close: () => link.close(),
  }
}

/** Subscribes to `#` on the broker and records every publish; reconnects with the broker. */
export async function tapBroker(url: string, rec: TapRecord, limitBytes: number, onPublish?: (topic: string, payload: Uint8Array) => void): Promise<{ close(): Promise<void> }> {
  const client = mqtt.connect(url, { clientId: `hopseal-tap-${process.pid}-${Date.now()}`, reconnectPeriod: 100, clean: true, resubscribe: true })
  client.on('message', (topic, payload) => {
    keep(rec, payload, limitBytes)
    onPublish?.(topic, payload)
  })
  client.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => {
      client.subscribe('#', { qos: 0 }, (e) => (e ? reject(e) : resolve()))
    })
    client.once('error', reject)
  })
  return { close: () => client.endAsync(true).then(() => undefined) }
}
