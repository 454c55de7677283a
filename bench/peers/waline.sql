-- Waline's SQLite schema (its wl_Comment, wl_Counter and wl_Users tables), which the bench creates
-- for each run; Waline ships it only as a database file in its repository.
CREATE TABLE wl_Comment (
  id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER DEFAULT NULL, comment TEXT,
  insertedAt DATETIME DEFAULT (datetime('now','localtime')), ip VARCHAR(100) DEFAULT '',
  link VARCHAR(255) DEFAULT NULL, mail VARCHAR(255) DEFAULT NULL, nick VARCHAR(255) DEFAULT NULL,
  pid INTEGER DEFAULT NULL, rid INTEGER DEFAULT NULL, sticky NUMERIC DEFAULT NULL,
  status VARCHAR(50) NOT NULL DEFAULT '', "like" INTEGER DEFAULT NULL, ua TEXT, url VARCHAR(255) DEFAULT NULL,
  createdAt DATETIME DEFAULT (datetime('now','localtime')), updatedAt DATETIME DEFAULT (datetime('now','localtime')));
CREATE TABLE wl_Counter (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER DEFAULT NULL,
  reaction0 INTEGER DEFAULT NULL, reaction1 INTEGER DEFAULT NULL, reaction2 INTEGER DEFAULT NULL,
  reaction3 INTEGER DEFAULT NULL, reaction4 INTEGER DEFAULT NULL, reaction5 INTEGER DEFAULT NULL,
  reaction6 INTEGER DEFAULT NULL, reaction7 INTEGER DEFAULT NULL, reaction8 INTEGER DEFAULT NULL,
  url VARCHAR(255) NOT NULL DEFAULT '',
  createdAt DATETIME DEFAULT (datetime('now','localtime')), updatedAt DATETIME DEFAULT (datetime('now','localtime')));
CREATE TABLE wl_Users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, display_name VARCHAR(255) NOT NULL DEFAULT '',
  email VARCHAR(255) NOT NULL DEFAULT '', password VARCHAR(255) NOT NULL DEFAULT '',
  type VARCHAR(50) NOT NULL DEFAULT '', label VARCHAR(255) DEFAULT NULL, url VARCHAR(255) DEFAULT NULL,
  avatar VARCHAR(255) DEFAULT NULL, github VARCHAR(255) DEFAULT NULL, twitter VARCHAR(255) DEFAULT NULL,
  facebook VARCHAR(255) DEFAULT NULL, google VARCHAR(255) DEFAULT NULL, weibo VARCHAR(255) DEFAULT NULL,
  qq VARCHAR(255) DEFAULT NULL, oidc VARCHAR(255) DEFAULT NULL, huawei VARCHAR(255) DEFAULT NULL,
  "2fa" VARCHAR(32) DEFAULT NULL,
  createdAt DATETIME DEFAULT (datetime('now','localtime')), updatedAt DATETIME DEFAULT (datetime('now','localtime')));
