/** Setup file of the `synth` Jest project: the suites' `startTarget()` starts `start:synth`. */
process.env.TEST_TARGET = 'synth';
