// KAFKA_BROKERS parsing, apart from the producer: reading the configuration must not load the
// Kafka client (its import costs more CPU than the rest of a worker's start-up).

export function parseBrokers(text: string): string[] {
  const brokers = text
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is empty');
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.-]+:[0-9]{1,5}$/.test(broker))
      throw new Error(`invalid Kafka broker ${JSON.stringify(broker)}`);
  }
  return brokers;
}
