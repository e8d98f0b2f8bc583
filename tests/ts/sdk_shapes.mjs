// Derive, from the TypeScript SDK's declarations, the shape of every Managed Agents response:
// which keys each object must carry (`key: T`) and which it may omit (`key?: T`), and where null
// is allowed. Prints JSON (see `nb_agents/emulator/sdk_shapes.py` for the format):
//
//   {"sdk": "@anthropic-ai/sdk@X", "types": {Name: node}, "routes": [{method, path, kind, type}]}
//
// node := {"ref": Name} | {"object": {key: {"required": bool, "type": node}}, "index"?: node}
//       | {"union": [node]} | {"array": node} | {"literal": value} | {"prim": "string"|"number"|"boolean"|"null"|"unknown"}
//
// Routes come from the compiled resource classes: the `this._client.<verb>(path, ...)` call of each
// method (.js) paired with that method's declared return type (.d.ts): APIPromise<T> is a JSON body
// of T, APIPromise<Stream<T>> an SSE stream of T, PagePromise<P, T> a page of T (the page's public
// properties become its envelope), APIPromise<Response> raw bytes.
//
// Usage: node sdk_shapes.mjs > shapes.json   (run from this directory after `npm ci`)
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const HERE = path.dirname(new URL(import.meta.url).pathname);
const SDK_DIR = path.join(HERE, "node_modules", "@anthropic-ai", "sdk");
const SDK_VERSION = JSON.parse(fs.readFileSync(path.join(SDK_DIR, "package.json"), "utf8")).version;
const BETA = path.join(SDK_DIR, "resources", "beta");

// The Managed Agents families (each a file or a directory under resources/beta).
const FAMILIES = [
  "agents", "environments", "sessions", "files", "memory-stores", "vaults",
  "deployments", "deployment-runs", "dreams",
];

function declarationFiles() {
  const out = [];
  for (const family of FAMILIES) {
    const dir = path.join(BETA, family);
    if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) {
      const walk = (d) => {
        for (const name of fs.readdirSync(d).sort()) {
          const full = path.join(d, name);
          if (fs.statSync(full).isDirectory()) walk(full);
          else if (name.endsWith(".d.ts") && name !== "index.d.ts") out.push(full);
        }
      };
      walk(dir);
    } else if (fs.existsSync(dir + ".d.ts")) {
      out.push(dir + ".d.ts");
    }
  }
  return out;
}

const files = declarationFiles();
const program = ts.createProgram(files, {
  strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
  moduleResolution: ts.ModuleResolutionKind.Node10,
});
const checker = program.getTypeChecker();
const types = {};

function isNamedDeclaration(type) {
  // A non-generic interface or type alias declared in the SDK: kept by name (a `ref`).
  const alias = type.aliasSymbol;
  if (alias && !(type.aliasTypeArguments && type.aliasTypeArguments.length)) return alias.getName();
  const sym = type.getSymbol();
  if (sym && sym.flags & ts.SymbolFlags.Interface && !(type.typeArguments && type.typeArguments.length)
      && !(type.objectFlags & ts.ObjectFlags.Reference && checker.getTypeArguments(type).length)) {
    return sym.getName();
  }
  return null;
}

function ser(type) {
  const f = type.flags;
  if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return { prim: "unknown" };
  if (f & ts.TypeFlags.Null) return { prim: "null" };
  if (f & ts.TypeFlags.Boolean) return { prim: "boolean" };
  if (f & ts.TypeFlags.BooleanLiteral) return { literal: type.intrinsicName === "true" };
  if (f & ts.TypeFlags.StringLiteral || f & ts.TypeFlags.NumberLiteral) return { literal: type.value };
  if (f & ts.TypeFlags.String) return { prim: "string" };
  if (f & ts.TypeFlags.Number) return { prim: "number" };
  if (f & ts.TypeFlags.EnumLiteral && type.isUnion()) return { union: type.types.map(ser) };
  if (type.isIntersection()) {
    // `string & {}` (a string that keeps literal completions, e.g. a model id): the primitive.
    const prim = type.types.find((t) => t.flags & (ts.TypeFlags.String | ts.TypeFlags.Number | ts.TypeFlags.Boolean));
    if (prim) return ser(prim);
  }
  const name = isNamedDeclaration(type);
  if (name) {
    if (!(name in types)) {
      types[name] = null; // placeholder: recursion stops here
      types[name] = serStructure(type);
    }
    return { ref: name };
  }
  return serStructure(type);
}

function serStructure(type) {
  if (type.isUnion()) {
    const members = [];
    let bools = 0;
    for (const t of type.types) {
      if (t.flags & ts.TypeFlags.Undefined) continue;
      if (t.flags & ts.TypeFlags.BooleanLiteral && !type.aliasSymbol) { bools++; continue; }
      members.push(ser(t));
    }
    if (bools === 2) members.push({ prim: "boolean" });
    return members.length === 1 ? members[0] : { union: members };
  }
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    const args = checker.getTypeArguments(type);
    return { array: args.length ? (checker.isTupleType(type) ? { union: args.map(ser) } : ser(args[0])) : { prim: "unknown" } };
  }
  if (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) {
    const object = {};
    for (const prop of checker.getPropertiesOfType(type)) {
      if (prop.flags & ts.SymbolFlags.Method || prop.getName().startsWith("#")) continue;
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      const mods = decl ? ts.getCombinedModifierFlags(decl) : 0;
      if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      const propType = checker.getTypeOfSymbol(prop);
      if (propType.getCallSignatures().length) continue;
      object[prop.getName()] = {
        required: !(prop.flags & ts.SymbolFlags.Optional),
        type: stripUndefined(propType),
      };
    }
    const out = { object };
    const index = checker.getIndexInfosOfType(type).find((i) => i.keyType.flags & ts.TypeFlags.String);
    if (index) out.index = ser(index.type);
    return out;
  }
  return { prim: "unknown" };
}

function stripUndefined(type) {
  if (type.isUnion() && type.types.some((t) => t.flags & ts.TypeFlags.Undefined) && !type.aliasSymbol) {
    const rest = type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
    const bools = rest.filter((t) => t.flags & ts.TypeFlags.BooleanLiteral);
    const members = rest.filter((t) => !(t.flags & ts.TypeFlags.BooleanLiteral)).map(ser);
    if (bools.length === 2) members.push({ prim: "boolean" });
    else members.push(...bools.map(ser));
    return members.length === 1 ? members[0] : { union: members };
  }
  return ser(type);
}

// --- routes ---------------------------------------------------------------------------------
const VERBS = { get: "GET", post: "POST", put: "PUT", patch: "PATCH", delete: "DELETE", getAPIList: "GET" };

function pathOf(node) {
  if (ts.isStringLiteralLike(node)) return node.text;
  if (ts.isTaggedTemplateExpression(node)) node = node.template;
  if (ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    return node.head.text + node.templateSpans.map((s) => "{}" + s.literal.text).join("");
  }
  return null;
}

// class name -> method name -> [{method, path}] from the compiled JavaScript.
function jsCalls(jsFile) {
  const calls = {};
  if (!fs.existsSync(jsFile)) return calls;
  const source = ts.createSourceFile(jsFile, fs.readFileSync(jsFile, "utf8"), ts.ScriptTarget.ES2022, true);
  const visit = (node, cls, meth) => {
    if (ts.isClassDeclaration(node) && node.name) cls = node.name.text;
    if (ts.isMethodDeclaration(node) && node.name && ts.isIdentifier(node.name)) meth = node.name.text;
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const target = node.expression;
      const verb = target.name.text;
      if (verb in VERBS && ts.isPropertyAccessExpression(target.expression)
          && target.expression.name.text === "_client" && cls && meth && node.arguments.length) {
        const p = pathOf(node.arguments[0]);
        if (p) {
          let method = VERBS[verb];
          if (verb === "getAPIList") {
            const opts = node.arguments[2];
            const m = opts && ts.isObjectLiteralExpression(opts) && opts.properties.find(
              (pr) => ts.isPropertyAssignment(pr) && pr.name.getText() === "method");
            if (m && ts.isStringLiteralLike(m.initializer)) method = m.initializer.text.toUpperCase();
          }
          ((calls[cls] ??= {})[meth] ??= []).push({ method, path: p.split("?")[0] });
        }
      }
    }
    ts.forEachChild(node, (child) => visit(child, cls, meth));
  };
  visit(source, null, null);
  return calls;
}

const routes = [];
for (const file of files) {
  const sf = program.getSourceFile(file);
  const calls = jsCalls(file.replace(/\.d\.ts$/, ".js"));
  for (const stmt of sf.statements) {
    if (!ts.isClassDeclaration(stmt) || !stmt.name || !calls[stmt.name.text]) continue;
    const cls = stmt.name.text;
    for (const member of stmt.members) {
      if (!ts.isMethodDeclaration(member) || !member.type || !ts.isIdentifier(member.name)) continue;
      const found = calls[cls][member.name.text];
      if (!found) continue;
      const ret = member.type;
      if (!ts.isTypeReferenceNode(ret) || !ret.typeArguments) continue;
      const wrapper = ret.typeName.getText();
      let kind, type;
      if (wrapper === "PagePromise") {
        kind = "page";
        const pageType = checker.getTypeFromTypeNode(ret.typeArguments[0]);
        type = serStructure(pageType);
      } else if (wrapper === "APIPromise") {
        const inner = ret.typeArguments[0];
        const innerName = ts.isTypeReferenceNode(inner) ? inner.typeName.getText() : "";
        if (innerName === "Stream") {
          kind = "stream";
          type = ser(checker.getTypeFromTypeNode(inner.typeArguments[0]));
        } else if (innerName === "Response") {
          kind = "binary";
          type = null;
        } else {
          kind = "json";
          type = ser(checker.getTypeFromTypeNode(inner));
        }
      } else continue;
      for (const { method, path: p } of found) {
        const sdkMethod = `${path.relative(BETA, file).replace(/\.d\.ts$/, "")}:${cls}.${member.name.text}`;
        routes.push({ method, path: p, kind, type, sdk_method: sdkMethod });
      }
    }
  }
}
routes.sort((a, b) => (a.path + a.method).localeCompare(b.path + b.method));
const sortedTypes = Object.fromEntries(Object.keys(types).sort().map((k) => [k, types[k]]));
// One type and one route per line, so a new SDK's changes read as a small diff.
const lines = [`{"sdk": ${JSON.stringify(`@anthropic-ai/sdk@${SDK_VERSION}`)},`, `"types": {`];
Object.entries(sortedTypes).forEach(([k, v], i, all) =>
  lines.push(`${JSON.stringify(k)}: ${JSON.stringify(v)}${i < all.length - 1 ? "," : ""}`));
lines.push(`},`, `"routes": [`);
routes.forEach((r, i) => lines.push(`${JSON.stringify(r)}${i < routes.length - 1 ? "," : ""}`));
lines.push(`]}`);
process.stdout.write(lines.join("\n") + "\n");
