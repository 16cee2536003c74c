/**
 * Store and forward for devices that are asleep or unplugged: bounded
 * per-device FIFO mailboxes with expiry. A message is "accepted" once it is in
 * a mailbox; when a mailbox is full the oldest message is dropped (counted),
 * never the new one, because the newest ciphertext is the one the channel
 * layer's reliable mode still waits on.
 */
import type { Clock } from '../../time/clock.ts'

export interface MailboxLimits {
  /** Messages per device. */
  maxMessages: number
  /** Bytes per device. */
  maxBytes: number
  /** Bytes across all devices. */
  maxTotalBytes: number
  /** Expiry of one queued message (ms). */
  ttlMs: number
}

interface Entry {
  bytes: Uint8Array
  at: number
}

export class Mailboxes {
  private readonly boxes = new Map<string, Entry[]>()
  private total = 0

  constructor(
    private readonly limits: MailboxLimits,
    private readonly clock: Clock,
    private readonly count: (reason: string, n?: number) => void,
  ) {}

  /** Bytes held across all mailboxes. */
  get totalBytes(): number {
    return this.total
  }

  size(device: string): number {
    return this.boxes.get(device)?.length ?? 0
  }

  /** Queues a copy of `bytes` for `device`, evicting the oldest messages beyond the limits. */
  put(device: string, bytes: Uint8Array): void {
    if (bytes.length > this.limits.maxBytes) {
      this.count('mailbox.drop.too_large')
      return
    }
    const existing = this.boxes.get(device)
    if (existing) this.expire(device, existing)
    let box = this.boxes.get(device)
    if (!box) this.boxes.set(device, (box = []))
    box.push({ bytes: bytes.slice(), at: this.clock.now() })
    this.total += bytes.length
    this.count('mailbox.queued')
    let held = box.reduce((n, e) => n + e.bytes.length, 0)
    while (box.length > 1 && (box.length > this.limits.maxMessages || held > this.limits.maxBytes)) {
      held -= this.dropOldest(device, box)
      this.count('mailbox.drop.full')
    }
    while (this.total > this.limits.maxTotalBytes) {
      // Evict from the fullest mailbox: one chatty device cannot starve the others.
      let worst: [string, Entry[]] | undefined
      for (const e of this.boxes) if (e[1].length > 0 && (!worst || e[1].length > worst[1].length)) worst = e
      if (!worst) break
      this.dropOldest(worst[0], worst[1])
      this.count('mailbox.drop.total')
    }
  }

  /** Removes and returns what is queued for `device` (oldest first), without expired messages. */
  take(device: string): Uint8Array[] {
    const box = this.boxes.get(device)
    if (!box) return []
    this.expire(device, box)
    this.boxes.delete(device)
    for (const e of box) this.total -= e.bytes.length
    return box.map((e) => e.bytes)
  }

  /** Puts messages back at the head of a mailbox (a flush that failed half way), within limits. */
  restore(device: string, messages: Uint8Array[]): void {
    const rest = this.take(device)
    for (const m of [...messages, ...rest]) this.put(device, m)
  }

  clear(): void {
    this.boxes.clear()
    this.total = 0
  }

  private dropOldest(device: string, box: Entry[]): number {
    const e = box.shift()
    if (!e) return 0
    this.total -= e.bytes.length
    if (box.length === 0) this.boxes.delete(device)
    return e.bytes.length
  }

  private expire(device: string, box: Entry[]): void {
    const cutoff = this.clock.now() - this.limits.ttlMs
    while (box.length > 0 && box[0]!.at < cutoff) {
      this.dropOldest(device, box)
      this.count('mailbox.drop.expired')
    }
    if (box.length === 0) this.boxes.delete(device)
  }
}
