// Makes one database's three members a replica set, then creates its
// service's user and the backup user. Safe to run again and again: it
// initiates only a set not yet initiated and creates only absent users.
// DATABASE names the database (and the service user); MEMBERS lists the
// members as host:port, the first holding the root user from its first start.
const fs = require('fs');

const secret = (key) => fs.readFileSync(`/etc/mongo-secret/${key}`, 'utf8').trim();
const database = process.env.DATABASE;
const members = process.env.MEMBERS.split(',');
const rootPassword = secret('root-password');

// Tries `step` until it succeeds: members elect a primary a few seconds
// after the set is initiated.
function retrying(what, step) {
  for (let attempt = 1; ; attempt++) {
    try {
      return step();
    } catch (e) {
      if (attempt >= 60) throw e;
      print(`${what}: ${e.message}; trying again`);
      sleep(2000);
    }
  }
}

const first = new Mongo(`mongodb://${members[0]}/?directConnection=true`).getDB('admin');
first.auth('root', rootPassword);
try {
  first.adminCommand({ replSetGetStatus: 1 });
  print('the replica set is initiated already');
} catch (e) {
  if (e.codeName !== 'NotYetInitialized') throw e;
  first.adminCommand({
    replSetInitiate: {
      _id: 'rs0',
      // The first member, which holds the data so far, is preferred as primary.
      members: members.map((host, i) => ({ _id: i, host, priority: i === 0 ? 2 : 1 })),
    },
  });
  print(`initiated rs0 with ${members.join(', ')}`);
}

const uri = `mongodb://${members.join(',')}/admin?replicaSet=rs0`;
const admin = retrying('waiting for a primary', () => {
  const db = new Mongo(uri).getDB('admin');
  db.auth('root', rootPassword);
  // Commands go to the primary; a set without one yet fails them.
  if (!db.hello().isWritablePrimary) throw new Error('no primary yet');
  return db;
});

function ensureUser(user, passwordKey, roles) {
  retrying(`creating ${user}`, () => {
    if (admin.getUser(user) !== null) {
      print(`user ${user} exists`);
      return;
    }
    admin.createUser({ user, pwd: secret(passwordKey), roles }, { w: 'majority' });
    print(`created user ${user}`);
  });
}

ensureUser(database, 'password', [{ role: 'readWrite', db: database }]);
ensureUser('backup', 'backup-password', [{ role: 'backup', db: 'admin' }]);
