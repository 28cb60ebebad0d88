'use strict';
// Loads a package the way a CommonJS consumer does, `require()`, and runs
// its exercise on it: `node run.cjs <package> <exercise file>`. Prints the
// exercise's result as one JSON line.
const { pathToFileURL } = require('node:url');
const { resolve } = require('node:path');

const [name, exerciseFile] = process.argv.slice(2);
const pkg = require(name);
import(pathToFileURL(resolve(__dirname, exerciseFile)).href)
  .then(({ default: exercise }) => exercise(pkg))
  .then((result) => console.log(JSON.stringify(result)));
