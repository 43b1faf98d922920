// The orchestrator reads a bundle archive's manifest from here; it lives with the other archive
// readers in src/bundle/.

export { readManifestFromArchive, type ArchiveManifest } from '../bundle/archive-manifest.js';
