#!/bin/sh
# Writes the git-ignored env files that k8s/base's secretGenerator (and k8s/compose) read:
#   broker.env   BROKER_USER, BROKER_PASSWORD            (ActiveMQ, simulator, tracker)
#   mongodb.env  MONGO_INITDB_ROOT_USERNAME/_PASSWORD     (MongoDB's first start)
#                MONGODB_URL                              (the tracker)
# Passwords are 24 random bytes from openssl, hex-encoded so they are safe in a URL.
# An existing file is never overwritten: MongoDB keeps the password of its first start.
# Usage: sh k8s/base/secrets/generate.sh [DIR]   (DIR defaults to this folder)
set -eu
dir=${1:-$(dirname "$0")}
mkdir -p "$dir"
umask 077

if [ ! -f "$dir/broker.env" ]; then
    printf 'BROKER_USER=fleetman\nBROKER_PASSWORD=%s\n' "$(openssl rand -hex 24)" >"$dir/broker.env"
    echo "wrote $dir/broker.env"
fi

if [ ! -f "$dir/mongodb.env" ]; then
    password=$(openssl rand -hex 24)
    {
        echo "MONGO_INITDB_ROOT_USERNAME=fleetman"
        echo "MONGO_INITDB_ROOT_PASSWORD=$password"
        echo "MONGODB_URL=mongodb://fleetman:$password@fleetman-mongodb:27017/?authSource=admin"
    } >"$dir/mongodb.env"
    echo "wrote $dir/mongodb.env"
fi
