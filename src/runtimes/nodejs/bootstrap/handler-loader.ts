import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuntimeError } from './errors.js';

export type Handler = (event: unknown, context: unknown, callback?: (err: unknown, result?: unknown) => void) => unknown;

/**
 * Resolve a Lambda handler string ("dir/module.export.path") the way Lambda's Node.js runtime does:
 * extensionless file, then .js (CommonJS unless the nearest package.json says "type": "module"),
 * .mjs, .cjs, and finally a module from node_modules. Module-level code runs here, once.
 */
export async function loadHandler(taskRoot: string, handlerString: string): Promise<Handler> {
  const slash = handlerString.lastIndexOf('/');
  const moduleRoot = slash >= 0 ? handlerString.slice(0, slash) : '';
  const rest = slash >= 0 ? handlerString.slice(slash + 1) : handlerString;
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerString}`);
  }
  const moduleName = rest.slice(0, dot);
  const exportPath = rest.slice(dot + 1);
  const base = resolve(taskRoot, moduleRoot, moduleName);
  if (base !== resolve(taskRoot) && !base.startsWith(resolve(taskRoot) + sep)) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerString}: it points outside the bundle`);
  }
  const module = await importModule(taskRoot, base, moduleName);
  let target: unknown = module;
  for (const key of exportPath.split('.')) {
    target = target !== null && (typeof target === 'object' || typeof target === 'function') ? (target as Record<string, unknown>)[key] : undefined;
  }
  if (typeof target !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${moduleRoot ? `${moduleRoot}/` : ''}${moduleName}.${exportPath} is undefined or not exported`);
  }
  return target as Handler;
}

async function importModule(taskRoot: string, base: string, moduleName: string): Promise<unknown> {
  const require = createRequire(resolve(taskRoot, 'index.js'));
  try {
    if (existsSync(base)) return require(base);
    const esm = packageTypeIsModule(base, taskRoot);
    if (existsSync(`${base}.js`)) return esm ? await import(pathToFileURL(`${base}.js`).href) : require(`${base}.js`);
    if (existsSync(`${base}.mjs`)) return await import(pathToFileURL(`${base}.mjs`).href);
    if (existsSync(`${base}.cjs`)) return require(`${base}.cjs`);
    let resolved: string;
    try {
      resolved = require.resolve(moduleName, { paths: [taskRoot, dirname(base)] });
    } catch {
      throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
    }
    return resolved.endsWith('.mjs') ? await import(pathToFileURL(resolved).href) : require(resolved);
  } catch (err) {
    if (err instanceof RuntimeError) throw err;
    if (err instanceof SyntaxError) {
      throw new RuntimeError('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`, err);
    }
    if (isModuleNotFound(err)) {
      throw new RuntimeError('Runtime.ImportModuleError', `Error: ${(err as Error).message.split('\n')[0]}`, err);
    }
    throw err;
  }
}

function packageTypeIsModule(base: string, taskRoot: string): boolean {
  const stop = resolve(taskRoot, '..');
  for (let dir = dirname(base); dir !== stop && dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = resolve(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
  }
  return false;
}

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}
