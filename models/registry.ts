// The models this build knows. The worker refuses a batch for any other (dead letter,
// reason unknownModel); the operator plans with the inputs and outputs listed here.
import { erc20BalancesModel } from './erc20_balances/erc20BalancesModel.ts';
import { erc20TransfersModel } from './erc20_transfers/erc20TransfersModel.ts';
import { ingestModel } from './ingest/ingestModel.ts';
import { ModelRegistry } from './modelRegistry.ts';

export const modelRegistry = new ModelRegistry([ingestModel, erc20TransfersModel, erc20BalancesModel]);
