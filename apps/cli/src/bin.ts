#!/usr/bin/env node
console.log('typevisor: the CLI lands with the boot issue');
