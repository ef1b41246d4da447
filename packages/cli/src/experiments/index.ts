/** The experiments `fairgpu run` knows, by name. */
import type { Experiment } from '../experiment.ts';
import { biasedMnist, privacy } from './biased-mnist/index.ts';
import { brainAge } from './brain-age/index.ts';
import { genericVision } from './generic-vision/index.ts';

export const EXPERIMENTS: Record<string, Experiment<any>> = {
  [biasedMnist.name]: biasedMnist,
  [privacy.name]: privacy,
  [brainAge.name]: brainAge,
  [genericVision.name]: genericVision,
};

/** The experiment `npm start` runs. */
export const DEFAULT_EXPERIMENT = biasedMnist.name;
