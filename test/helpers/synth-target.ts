/**
 * Set-up of the `synth` Jest project, before each suite: the suites' `startTarget()` starts
 * `start:synth`, which starts DynamoDB Local, moto and, on first use, one process per function,
 * so hooks get more time than on `npm start`.
 */
import { jest } from '@jest/globals';

process.env.TEST_TARGET = 'synth';
jest.setTimeout(120_000);
