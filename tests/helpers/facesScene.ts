// The composed faces scene lives with the benchmark (compiled with it); tests use the same one.
export * from '../../bench/facesScene.js';
