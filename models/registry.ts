// The models this build knows. The worker refuses a batch for any other (dead letter,
// reason unknownModel). The operator plans with their manifests (manifests.ts), which this
// registry checks the implementations against when it is built.
import { erc20BalancesModel } from './erc20_balances/erc20BalancesModel.ts';
import { erc20TransfersModel } from './erc20_transfers/erc20TransfersModel.ts';
import { ingestModel } from './ingest/ingestModel.ts';
import { MODEL_MANIFESTS } from './manifests.ts';
import { ModelRegistry } from './modelRegistry.ts';

export const modelRegistry = new ModelRegistry([ingestModel, erc20TransfersModel, erc20BalancesModel], {
  manifests: MODEL_MANIFESTS,
});
