// Descriptors of the original network (npm @vladmandic/face-api, TF.js, pure-JS CPU backend)
// for chips written by `bench chips`: node face_api_descriptors.js chips.bin chips.json out.json
const fs = require('fs');
const path = require('path');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

async function main() {
  const [binPath, namesPath, outPath] = process.argv.slice(2, 5);
  await faceapi.tf.setBackend('cpu');
  await faceapi.tf.ready();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  const names = JSON.parse(fs.readFileSync(namesPath, 'utf8')).names;
  const chips = fs.readFileSync(binPath);
  const size = 150 * 150 * 3;
  if (chips.length !== names.length * size) throw new Error('chips.bin does not match chips.json');
  const out = {};
  for (let i = 0; i < names.length; i++) {
    const pixels = Float32Array.from(chips.subarray(i * size, (i + 1) * size));
    const chip = faceapi.tf.tensor3d(pixels, [150, 150, 3], 'float32');
    out[names[i]] = Array.from(await faceapi.computeFaceDescriptor(chip));
    chip.dispose();
  }
  fs.writeFileSync(outPath, JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
