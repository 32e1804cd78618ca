/** The shared suite on a real 3-master Redis Cluster that the test starts on loopback and stops afterwards. */
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Cluster } from "ioredis";
import { RedisStore } from "../src/session/stores/redis-store.js";
import { redisUnavailable, startCluster } from "./helpers/redis.js";
import { regenerateRaceSuite } from "./helpers/redis-races.js";
import { sessionAdminSuite } from "./session-admin-suite.js";
import { sessionStoreSuite } from "./session-store-suite.js";

const unavailable = await redisUnavailable();

if (unavailable !== null) {
  test("RedisStore on Redis Cluster", { skip: `Redis Cluster tests skipped: ${unavailable}` }, () => undefined);
} else {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  const clients: Cluster[] = [];
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await cluster.stop();
  });

  const connect = () => new Cluster(cluster.ports.map((port) => ({ host: "127.0.0.1", port })));
  /** A RedisStore on the cluster under a random key prefix; its client is disconnected after the file. */
  const clusterStore = () => {
    const client = connect();
    clients.push(client);
    return { store: new RedisStore({ client, prefix: `cluster:${randomUUID()}:` }) };
  };

  sessionStoreSuite("RedisStore on a 3-master Redis Cluster", clusterStore, true);

  sessionAdminSuite("RedisStore on a 3-master Redis Cluster", clusterStore, true);

  // The old and new session keys hash to different slots (and mostly different masters) here.
  regenerateRaceSuite(
    "3-master cluster",
    () => connect(),
    async () => undefined,
  );
}
