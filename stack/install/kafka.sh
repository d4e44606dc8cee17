#!/usr/bin/env bash
# Fetches the Kafka broker (KRaft) and its dependencies from Maven Central.
# No Kafka broker ships in Debian or npm; Maven resolves the exact jar set.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
lib_dir="$CACHE_DIR/kafka/$KAFKA_VERSION/libs"
[[ -f "$lib_dir/.complete" ]] && exit 0
command -v mvn >/dev/null || fail kafka "Maven is not installed; run: apt-get install -y maven"
command -v java >/dev/null || fail kafka "Java is not installed; run: apt-get install -y openjdk-17-jre-headless"

work="$CACHE_DIR/kafka/$KAFKA_VERSION/pom"
mkdir -p "$work" "$lib_dir"
cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.model-runner</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib_dir" -DincludeScope=runtime \
  || fail kafka "Maven could not fetch kafka_2.13:$KAFKA_VERSION; check access to Maven Central"
touch "$lib_dir/.complete"
