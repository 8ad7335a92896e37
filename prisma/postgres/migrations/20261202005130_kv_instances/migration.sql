-- CreateEnum
CREATE TYPE "KvKeyType" AS ENUM ('TEXT', 'JSON', 'MARKDOWN', 'IMAGE');

-- CreateTable
CREATE TABLE "KvInstance" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "lastVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "KvInstance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KvKey" (
    "id" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" JSONB,
    "type" "KvKeyType" NOT NULL DEFAULT 'TEXT',
    "contentType" TEXT,
    "readonly" BOOLEAN NOT NULL DEFAULT false,
    "visible" BOOLEAN NOT NULL DEFAULT true,
    "hardcoded" BOOLEAN NOT NULL DEFAULT false,
    "template" BOOLEAN NOT NULL DEFAULT false,
    "tags" JSONB NOT NULL,
    "version" INTEGER NOT NULL,
    "updatedById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "KvKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KvEvent" (
    "id" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "keyName" TEXT,
    "key" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "KvEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KvAttachment" (
    "threadId" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "editMode" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "KvAttachment_pkey" PRIMARY KEY ("threadId","instanceId")
);

-- CreateIndex
CREATE INDEX "KvInstance_projectId_idx" ON "KvInstance"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "KvKey_instanceId_name_key" ON "KvKey"("instanceId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "KvEvent_instanceId_version_key" ON "KvEvent"("instanceId", "version");

-- CreateIndex
CREATE INDEX "KvAttachment_instanceId_idx" ON "KvAttachment"("instanceId");

-- AddForeignKey
ALTER TABLE "KvInstance" ADD CONSTRAINT "KvInstance_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KvKey" ADD CONSTRAINT "KvKey_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "KvInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KvEvent" ADD CONSTRAINT "KvEvent_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "KvInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KvAttachment" ADD CONSTRAINT "KvAttachment_threadId_fkey" FOREIGN KEY ("threadId") REFERENCES "Thread"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KvAttachment" ADD CONSTRAINT "KvAttachment_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "KvInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
