/**
 * Trust policies (docs/identity.md §7): allow-lists of identifiers and boolean
 * expressions over `subject.*` (attributes from verified credentials, plus
 * `subject.identifier`) and `resource.*` (attributes the application supplies).
 *
 *   expr    := and ("or" and)*
 *   and     := unary ("and" unary)*
 *   unary   := "not" unary | primary
 *   primary := "(" expr ")" | "exists" attr | "true" | "false"
 *            | operand "=" operand | operand "!=" operand | operand "in" list
 *   operand := attr | string          attr := ("subject" | "resource") "." name
 *   list    := "[" [string ("," string)*] "]"
 *   string  := '"' (any char but '"' and '\', or '\"', '\\')* '"'
 *
 * Evaluation is total: a comparison with an unknown attribute is false (so
 * `a != "x"` is false when `a` is unknown, while `not a = "x"` is true).
 * Byte-valued attributes equal only other byte-valued attributes.
 */
import { equalConstantTime } from '../bytes/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import { MAX_ATTRIBUTE_NAME_BYTES, MAX_POLICY_DEPTH, MAX_POLICY_LENGTH, MAX_POLICY_LIST } from './constants.ts'
import type { AttributeValue, VerifiedCredential } from './credential.ts'
import { isIdentifier, type Identifier } from './identifier.ts'

/** A parse error with the 0-based character offset where it was found. */
export class PolicyParseError extends HopsealError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(ErrorCode.POLICY_PARSE, `${message} at position ${position}`)
  }
}

/** Attributes as a Map or a plain object (own properties only are read). */
export type AttributeSource = ReadonlyMap<string, AttributeValue> | Readonly<Record<string, AttributeValue>>

export interface PolicyContext {
  subject?: AttributeSource
  resource?: AttributeSource
}

/** A trust policy: `evaluate` never throws. */
export interface TrustPolicy {
  readonly source: string
  evaluate(ctx: PolicyContext): boolean
}

type Scope = 'subject' | 'resource'
type Operand = { kind: 'attr'; scope: Scope; name: string } | { kind: 'str'; value: string }
type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; expr: Node }
  | { kind: 'eq' | 'ne'; left: Operand; right: Operand }
  | { kind: 'in'; left: Operand; list: string[] }
  | { kind: 'exists'; attr: Operand & { kind: 'attr' } }
  | { kind: 'const'; value: boolean }

type Token = { t: 'word' | 'str' | 'punct'; v: string; pos: number }

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'exists', 'true', 'false'])
const NAME = /^[A-Za-z0-9_.-]+$/

function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
    } else if (c === '(' || c === ')' || c === '[' || c === ']' || c === ',' || c === '=') {
      out.push({ t: 'punct', v: c, pos: i++ })
    } else if (c === '!') {
      if (src[i + 1] !== '=') throw new PolicyParseError('expected "!="', i)
      out.push({ t: 'punct', v: '!=', pos: i })
      i += 2
    } else if (c === '"') {
      const start = i++
      let v = ''
      for (;;) {
        if (i >= src.length) throw new PolicyParseError('unterminated string', start)
        const d = src[i]!
        if (d === '"') break
        if (d === '\\') {
          const e = src[i + 1]
          if (e !== '"' && e !== '\\') throw new PolicyParseError('unknown escape (only \\" and \\\\)', i)
          v += e
          i += 2
        } else {
          v += d
          i++
        }
      }
      i++
      out.push({ t: 'str', v, pos: start })
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i
      while (i < src.length && /[A-Za-z0-9_.-]/.test(src[i]!)) i++
      out.push({ t: 'word', v: src.slice(start, i), pos: start })
    } else {
      throw new PolicyParseError(`unexpected character ${JSON.stringify(c)}`, i)
    }
  }
  return out
}

class Parser {
  private i = 0
  private depth = 0
  constructor(
    private readonly toks: Token[],
    private readonly end: number,
  ) {}

  parse(): Node {
    const n = this.expr()
    const t = this.toks[this.i]
    if (t) throw new PolicyParseError(`unexpected ${JSON.stringify(t.v)}`, t.pos)
    return n
  }

  private peek(): Token | undefined {
    return this.toks[this.i]
  }
  private pos(): number {
    return this.peek()?.pos ?? this.end
  }
  private isWord(v: string): boolean {
    const t = this.peek()
    return t?.t === 'word' && t.v === v
  }
  private isPunct(v: string): boolean {
    const t = this.peek()
    return t?.t === 'punct' && t.v === v
  }
  private expect(v: string): void {
    if (!this.isPunct(v)) throw new PolicyParseError(`expected "${v}"`, this.pos())
    this.i++
  }
  private enter(): void {
    if (++this.depth > MAX_POLICY_DEPTH) throw new PolicyParseError(`nested deeper than ${MAX_POLICY_DEPTH}`, this.pos())
  }

  private expr(): Node {
    this.enter()
    let left = this.and()
    while (this.isWord('or')) {
      this.i++
      left = { kind: 'or', left, right: this.and() }
    }
    this.depth--
    return left
  }

  private and(): Node {
    let left = this.unary()
    while (this.isWord('and')) {
      this.i++
      left = { kind: 'and', left, right: this.unary() }
    }
    return left
  }

  private unary(): Node {
    if (this.isWord('not')) {
      this.i++
      this.enter()
      const n: Node = { kind: 'not', expr: this.unary() }
      this.depth--
      return n
    }
    return this.primary()
  }

  private primary(): Node {
    if (this.isPunct('(')) {
      this.i++
      const n = this.expr()
      this.expect(')')
      return n
    }
    if (this.isWord('exists')) {
      this.i++
      const a = this.operand()
      if (a.kind !== 'attr') throw new PolicyParseError('exists takes an attribute', this.toks[this.i - 1]!.pos)
      return { kind: 'exists', attr: a }
    }
    if (this.isWord('true') || this.isWord('false')) return { kind: 'const', value: this.toks[this.i++]!.v === 'true' }
    const left = this.operand()
    if (this.isPunct('=') || this.isPunct('!=')) {
      const op = this.toks[this.i++]!.v
      return { kind: op === '=' ? 'eq' : 'ne', left, right: this.operand() }
    }
    if (this.isWord('in')) {
      this.i++
      return { kind: 'in', left, list: this.list() }
    }
    throw new PolicyParseError('expected "=", "!=" or "in"', this.pos())
  }

  private operand(): Operand {
    const t = this.peek()
    if (!t) throw new PolicyParseError('expected an attribute or a string', this.end)
    if (t.t === 'str') {
      this.i++
      return { kind: 'str', value: t.v }
    }
    if (t.t === 'word' && !KEYWORDS.has(t.v)) {
      const dot = t.v.indexOf('.')
      const scope = t.v.slice(0, dot)
      const name = t.v.slice(dot + 1)
      if (dot < 0 || (scope !== 'subject' && scope !== 'resource')) throw new PolicyParseError(`attribute must start with "subject." or "resource.", got ${JSON.stringify(t.v)}`, t.pos)
      if (name.length === 0 || name.length > MAX_ATTRIBUTE_NAME_BYTES || !NAME.test(name)) throw new PolicyParseError(`bad attribute name ${JSON.stringify(name)}`, t.pos)
      this.i++
      return { kind: 'attr', scope, name }
    }
    throw new PolicyParseError(`expected an attribute or a string, got ${JSON.stringify(t.v)}`, t.pos)
  }

  private list(): string[] {
    this.expect('[')
    const out: string[] = []
    if (this.isPunct(']')) {
      this.i++
      return out
    }
    for (;;) {
      const t = this.peek()
      if (t?.t !== 'str') throw new PolicyParseError('list items must be strings', this.pos())
      if (out.length >= MAX_POLICY_LIST) throw new PolicyParseError(`list longer than ${MAX_POLICY_LIST}`, t.pos)
      out.push(t.v)
      this.i++
      if (this.isPunct(']')) {
        this.i++
        return out
      }
      this.expect(',')
    }
  }
}

/**
 * Parses a policy expression.
 * @throws PolicyParseError (code POLICY_PARSE, with `position`) for any syntax error or limit.
 * @example parsePolicy('subject.role = "gateway" and subject.site in ["ward-3", "ward-4"]').evaluate({ subject: attrs })
 */
export function parsePolicy(source: string): TrustPolicy {
  if (typeof source !== 'string') throw new PolicyParseError('policy expected a string', 0)
  if (source.length > MAX_POLICY_LENGTH) throw new PolicyParseError(`policy longer than ${MAX_POLICY_LENGTH} characters`, MAX_POLICY_LENGTH)
  const tree = new Parser(tokenize(source), source.length).parse()
  return Object.freeze({ source, evaluate: (ctx: PolicyContext) => safeEvaluate(tree, ctx) })
}

/**
 * A policy that admits exactly the listed identifiers (`subject.identifier`).
 * @throws HopsealError INVALID_ARGUMENT for a malformed identifier.
 */
export function allowList(identifiers: Iterable<Identifier>): TrustPolicy {
  const set = new Set<string>()
  for (const id of identifiers) {
    if (!isIdentifier(id)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `allow-list entry is not an identifier: ${JSON.stringify(String(id).slice(0, 50))}`)
    set.add(id)
  }
  return Object.freeze({
    source: `subject.identifier in [${[...set].map((s) => `"${s}"`).join(', ')}]`,
    evaluate: (ctx: PolicyContext) => {
      const v = lookup(ctx, 'subject', 'identifier')
      return typeof v === 'string' && set.has(v)
    },
  })
}

/**
 * Throws unless `policy` admits `ctx`.
 * @throws HopsealError POLICY_DENIED.
 */
export function authorize(policy: TrustPolicy, ctx: PolicyContext): void {
  if (!policy.evaluate(ctx)) throw new HopsealError(ErrorCode.POLICY_DENIED, `trust policy denied: ${policy.source.slice(0, 200)}`)
}

/**
 * The `subject.*` attributes of a peer: `identifier` plus the attributes of
 * every verified credential about it. An attribute two credentials disagree
 * on is dropped (unknown, hence false), never resolved in anyone's favour.
 */
export function subjectAttributes(identifier: Identifier, credentials: readonly VerifiedCredential[] = []): Map<string, AttributeValue> {
  const out = new Map<string, AttributeValue>()
  const conflicted = new Set<string>()
  for (const c of credentials) {
    if (c.subject !== identifier) continue
    for (const [k, v] of c.attributes) {
      const held = out.get(k)
      if (held !== undefined && !sameValue(held, v)) conflicted.add(k)
      else out.set(k, v)
    }
  }
  for (const k of conflicted) out.delete(k)
  out.set('identifier', identifier)
  return out
}

function safeEvaluate(tree: Node, ctx: PolicyContext): boolean {
  try {
    return evaluate(tree, ctx)
  } catch {
    return false // a hostile context (throwing getter, proxy) denies, never throws
  }
}

function evaluate(n: Node, ctx: PolicyContext): boolean {
  switch (n.kind) {
    case 'and':
      return evaluate(n.left, ctx) && evaluate(n.right, ctx)
    case 'or':
      return evaluate(n.left, ctx) || evaluate(n.right, ctx)
    case 'not':
      return !evaluate(n.expr, ctx)
    case 'const':
      return n.value
    case 'exists':
      return lookup(ctx, n.attr.scope, n.attr.name) !== undefined
    case 'eq':
    case 'ne': {
      const a = resolve(ctx, n.left)
      const b = resolve(ctx, n.right)
      if (a === undefined || b === undefined) return false
      return sameValue(a, b) === (n.kind === 'eq')
    }
    case 'in': {
      const a = resolve(ctx, n.left)
      return typeof a === 'string' && n.list.includes(a)
    }
  }
}

function resolve(ctx: PolicyContext, o: Operand): AttributeValue | undefined {
  return o.kind === 'str' ? o.value : lookup(ctx, o.scope, o.name)
}

function lookup(ctx: PolicyContext, scope: Scope, name: string): AttributeValue | undefined {
  const src = ctx?.[scope]
  if (src === undefined || src === null) return undefined
  let v: unknown
  if (src instanceof Map) v = src.get(name)
  else if (typeof src === 'object' && Object.hasOwn(src, name)) v = (src as Record<string, unknown>)[name]
  return typeof v === 'string' || v instanceof Uint8Array ? v : undefined
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b
  return equalConstantTime(a, b)
}
