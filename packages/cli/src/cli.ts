/** The process entry of `fairgpu` (bin/fairgpu.js loads this): runs main and exits with its code. */
import { main } from './main.ts';

// dawn.node keeps the process alive while its GPU object is referenced: exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
