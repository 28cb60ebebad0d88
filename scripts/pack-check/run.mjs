// Loads a package the way an ES module consumer does, `import`, and runs its
// exercise on it: `node run.mjs <package> <exercise file>`. Prints the
// exercise's result as one JSON line.
const [name, exerciseFile] = process.argv.slice(2);
const pkg = await import(name);
const { default: exercise } = await import(new URL(exerciseFile, import.meta.url).href);
console.log(JSON.stringify(await exercise(pkg)));
