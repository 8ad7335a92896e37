-- CreateTable
CREATE TABLE "KvInstance" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "lastVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "KvInstance_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "KvKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "instanceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" JSONB,
    "type" TEXT NOT NULL DEFAULT 'TEXT',
    "contentType" TEXT,
    "readonly" BOOLEAN NOT NULL DEFAULT false,
    "visible" BOOLEAN NOT NULL DEFAULT true,
    "hardcoded" BOOLEAN NOT NULL DEFAULT false,
    "template" BOOLEAN NOT NULL DEFAULT false,
    "tags" JSONB NOT NULL,
    "version" INTEGER NOT NULL,
    "updatedById" TEXT,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "KvKey_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "KvInstance" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "KvEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "instanceId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "keyName" TEXT,
    "key" JSONB,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "KvEvent_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "KvInstance" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "KvAttachment" (
    "threadId" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "editMode" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("threadId", "instanceId"),
    CONSTRAINT "KvAttachment_threadId_fkey" FOREIGN KEY ("threadId") REFERENCES "Thread" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "KvAttachment_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "KvInstance" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "KvInstance_projectId_idx" ON "KvInstance"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "KvKey_instanceId_name_key" ON "KvKey"("instanceId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "KvEvent_instanceId_version_key" ON "KvEvent"("instanceId", "version");

-- CreateIndex
CREATE INDEX "KvAttachment_instanceId_idx" ON "KvAttachment"("instanceId");
