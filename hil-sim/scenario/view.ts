/**
 * What the demo shows. On a terminal: a live panel (readings arriving at the
 * phone, beside them the ciphertext the broker and the gateway saw, the
 * handshake, radio bytes and airtime, counters), redrawn in place, with
 * colours. Elsewhere (pipes, CI logs): plain lines, no escape codes.
 */
import type { ScenarioEvent, Summary } from './run.ts'

export interface View {
  event(e: ScenarioEvent): void
  done(s: Summary): void
}

const C = { dim: '\x1b[2m', green: '\x1b[32m', red: '\x1b[31m', cyan: '\x1b[36m', yellow: '\x1b[33m', bold: '\x1b[1m', off: '\x1b[0m' }

export function summaryLines(s: Summary, color = false): string[] {
  const c = (k: keyof typeof C, t: string): string => (color ? C[k] + t + C.off : t)
  const lines = [
    `${c('bold', `scenario ${s.scenario}`)} (seed ${s.seed}) in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  vaults       ${Object.entries(s.vaults).map(([n, v]) => `${n}: ${v}`).join(', ')}`,
    `  handshake    ${s.handshake.protocol}: ${s.handshake.attempts} attempt(s), ${s.handshake.failures} failed; ${s.handshake.frames} radio frames, ${s.handshake.bytes} B, ${s.handshake.airtime_ms} ms airtime`,
    `  readings     sent ${s.readings.sent}, received ${s.readings.received}, duplicates ${s.readings.duplicates}, out of order ${s.readings.out_of_order}`,
    `  radio        ${s.radio.frames} frames, ${s.radio.bytes} B, ${s.radio.airtime_ms} ms airtime, ${s.radio.lost} lost, ${s.radio.reordered} reordered`,
    `  taps         broker ${s.taps.broker_messages} publishes / ${s.taps.broker_bytes} B, gateway ${s.taps.gateway_frames} frames / ${s.taps.gateway_bytes} B: plaintext matches ${s.taps.plaintext_matches}`,
    `  gateway      ${Object.entries(s.gateway).map(([k, v]) => `${k}=${v}`).join(' ') || '-'}`,
    `  memory       heap max ${s.memory.heap_max_mb} MB`,
  ]
  for (const f of s.faults) lines.push(`  fault        ${f}`)
  for (const ch of s.checks) lines.push(`  ${ch.ok ? c('green', 'ok  ') : c('red', 'FAIL')}         ${ch.name}: ${ch.detail}`)
  lines.push(s.ok ? c('green', 'result: ok') : c('red', 'result: FAILED'))
  return lines
}

/** Plain lines: every phase, handshake and fault, and a sample of readings. */
export function lineView(out: (l: string) => void, every = 10): View {
  let n = 0
  return {
    event(e) {
      if (e.type === 'phase') out(`# ${e.text}`)
      else if (e.type === 'fault') out(`! fault: ${e.text}`)
      else if (e.type === 'handshake') out(`+ channel up: ${e.device} in ${e.ms} ms, ${e.frames} radio frames, ${e.bytes} B, ${e.airtimeMs.toFixed(1)} ms airtime (attempt ${e.attempts})`)
      else if (e.type === 'handshake-failed') out(`- handshake failed: ${e.device}: ${e.code} (retrying)`)
      else if (e.type === 'reading' && n++ % every === 0) out(`  phone ← ${e.device} #${e.seq} = ${e.value} bpm | broker saw ${e.brokerHex}… | radio saw ${e.radioHex}…`)
    },
    done(s) {
      for (const l of summaryLines(s)) out(l)
    },
  }
}

/**
 * `line` cut to `columns` visible characters (ANSI colour codes do not count):
 * a line that wraps would take two rows and break the panel's cursor-up count.
 */
export function fitLine(line: string, columns: number): string {
  if (visibleLength(line) <= columns) return line
  let visible = 0
  let out = ''
  for (let i = 0; i < line.length; i++) {
    const esc = escapeEnd(line, i)
    if (esc > i) {
      out += line.slice(i, esc)
      i = esc - 1
      continue
    }
    if (visible === columns - 1) return out + '…' + C.off
    out += line[i]
    visible++
  }
  return out
}

/** Characters that take a column (ANSI escape sequences `ESC [ … letter` take none). */
export function visibleLength(line: string): number {
  let n = 0
  for (let i = 0; i < line.length; i++) {
    const esc = escapeEnd(line, i)
    if (esc > i) i = esc - 1
    else n++
  }
  return n
}

/** The index after an escape sequence starting at `i`, or `i` when none starts there. */
function escapeEnd(s: string, i: number): number {
  if (s.charCodeAt(i) !== 27 || s[i + 1] !== '[') return i
  let j = i + 2
  while (j < s.length && /[0-9;]/.test(s[j] as string)) j++
  return j < s.length ? j + 1 : i
}

/** The live panel for a TTY; every line fits the terminal's width (`columns()`, 80 when unknown). */
export function ttyView(write: (s: string) => void, title: string, columns: () => number = () => process.stdout.columns || 80): View {
  const state = { phase: '', handshake: '', last: [] as string[], faults: [] as string[], readings: 0, failures: 0 }
  let drawn = 0
  let timer: NodeJS.Timeout | undefined
  const draw = (): void => {
    const lines = [
      `${C.bold}hopseal demo: ${title}${C.off}`,
      `${C.dim}${state.phase}${C.off}`,
      `channel   ${state.handshake || 'establishing…'}${state.failures ? `  ${C.yellow}(${state.failures} failed attempts)${C.off}` : ''}`,
      `readings  ${C.green}${state.readings}${C.off} at the phone`,
      `${C.dim}  phone (plaintext)          broker saw (ciphertext)                           gateway radio frame${C.off}`,
      ...state.last.slice(-6),
      ...state.faults.slice(-3).map((f) => `${C.yellow}fault: ${f}${C.off}`),
    ]
    const cols = Math.max(20, columns())
    write((drawn ? `\x1b[${drawn}A` : '') + lines.map((l) => `\x1b[2K${fitLine(l, cols)}`).join('\n') + '\n')
    drawn = lines.length
  }
  return {
    event(e) {
      if (e.type === 'phase') state.phase = e.text
      else if (e.type === 'fault') state.faults.push(e.text)
      else if (e.type === 'handshake') state.handshake = `${C.cyan}up${C.off} ${e.device}: ${e.ms} ms, ${e.bytes} B / ${e.airtimeMs.toFixed(0)} ms on air`
      else if (e.type === 'handshake-failed') state.failures++
      else if (e.type === 'reading') {
        state.readings++
        state.last.push(`  #${String(e.seq).padStart(4)} ${String(e.value).padStart(3)} bpm      ${C.dim}${e.brokerHex.slice(0, 40)}…  ${e.radioHex.slice(0, 24)}…${C.off}`)
        if (state.last.length > 6) state.last.shift()
      }
      timer ??= setInterval(draw, 100)
    },
    done(s) {
      if (timer) clearInterval(timer)
      draw()
      write(summaryLines(s, true).join('\n') + '\n')
    },
  }
}
