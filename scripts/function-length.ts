/**
 * Function length: every function, method, constructor, accessor, arrow and
 * function expression in the .ts files under the given folders, measured with
 * the TypeScript compiler API in source lines from the first token of the
 * function to its last (a nested function counts inside its parent too, and
 * also on its own). Issue 14 sets the limit at 80 lines for src, vaults and
 * targets; longer orchestration is split into named phases.
 *
 * `npx tsx scripts/function-length.ts [limit]` prints the report for the tree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'

/** The limit of issue 14's "Done when": no function in src, vaults or targets over 80 lines. */
export const MAX_FUNCTION_LINES = 80

/** The folders the limit applies to (targets/espruino is plain JavaScript and holds no .ts file). */
export const CHECKED_FOLDERS = ['src', 'vaults', 'targets'] as const

export interface FunctionLength {
  /** Path relative to the root the walk started from, with `/`. */
  file: string
  /** 1-based line of the function's first token. */
  line: number
  /** The declared or assigned name, `<anonymous>` when there is none. */
  name: string
  /** Lines from the first token to the last, both included. */
  lines: number
}

function nameOf(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  if (node.name) return node.name.getText(sf)
  const p = node.parent
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText(sf)
  if (ts.isCallExpression(p)) return `<callback of ${p.expression.getText(sf).slice(0, 40)}>`
  return '<anonymous>'
}

/** Every function-like node of one file with its length in lines. */
export function measureFunctions(file: string, text: string): FunctionLength[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const out: FunctionLength[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration
      const start = sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line
      const end = sf.getLineAndCharacterOfPosition(fn.getEnd()).line
      out.push({ file, line: start + 1, name: nameOf(fn, sf), lines: end - start + 1 })
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

/** Measures every .ts file (not .d.ts) under `folders` of `root`; missing folders are skipped. */
export function measureTree(root: string, folders: readonly string[] = CHECKED_FOLDERS): { files: number; functions: FunctionLength[] } {
  const functions: FunctionLength[] = []
  let files = 0
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules') continue
      const abs = join(dir, name)
      if (statSync(abs).isDirectory()) walk(abs)
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        files++
        const rel = relative(root, abs).split('\\').join('/')
        functions.push(...measureFunctions(rel, readFileSync(abs, 'utf8')))
      }
    }
  }
  for (const f of folders) {
    const abs = join(root, f)
    let isDir = false
    try {
      isDir = statSync(abs).isDirectory()
    } catch {
      isDir = false
    }
    if (isDir) walk(abs)
  }
  return { files, functions }
}

/** The functions longer than `limit`, longest first, as `file:line name (N lines)`. */
export function overLimit(functions: readonly FunctionLength[], limit = MAX_FUNCTION_LINES): string[] {
  return functions
    .filter((f) => f.lines > limit)
    .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line)
    .map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`)
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)
if (isMain) {
  const root = resolve(import.meta.dirname, '..')
  const limit = process.argv[2] ? Number(process.argv[2]) : MAX_FUNCTION_LINES
  const r = measureTree(root)
  const long = overLimit(r.functions, limit)
  for (const l of long) console.log(l)
  console.log(`function length: ${r.files} files, ${r.functions.length} functions, ${long.length} over ${limit} lines`)
  process.exitCode = long.length > 0 ? 1 : 0
}
