-- CreateTable
CREATE TABLE "Invoice" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "amountSats" INTEGER NOT NULL,
    "memo" TEXT NOT NULL,
    "paymentRequest" TEXT NOT NULL,
    "paymentHash" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'PENDING',
    "pendingKey" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paidAt" DATETIME,
    "expiresAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Invoice_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "Session" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "SessionRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "model" TEXT NOT NULL,
    "screeningModel" TEXT,
    "screeningPromptTokens" INTEGER NOT NULL DEFAULT 0,
    "screeningCompletionTokens" INTEGER NOT NULL DEFAULT 0,
    "workPromptTokens" INTEGER NOT NULL DEFAULT 0,
    "workCompletionTokens" INTEGER NOT NULL DEFAULT 0,
    "heldSats" INTEGER NOT NULL DEFAULT 0,
    "poolReservedSats" INTEGER NOT NULL DEFAULT 0,
    "costSats" INTEGER NOT NULL DEFAULT 0,
    "absorbedSats" INTEGER NOT NULL DEFAULT 0,
    "chargedSats" INTEGER NOT NULL DEFAULT 0,
    "balanceAfterSats" INTEGER,
    "btcUsd" REAL,
    "breakdown" JSONB,
    "reason" TEXT,
    "error" TEXT,
    "messageId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" DATETIME,
    CONSTRAINT "SessionRequest_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "Session" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "FreePool" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "capacitySats" INTEGER NOT NULL,
    "remainingSats" INTEGER NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Invoice_paymentHash_key" ON "Invoice"("paymentHash");

-- CreateIndex
CREATE UNIQUE INDEX "Invoice_pendingKey_key" ON "Invoice"("pendingKey");

-- CreateIndex
CREATE INDEX "Invoice_state_expiresAt_idx" ON "Invoice"("state", "expiresAt");

-- CreateIndex
CREATE INDEX "Invoice_sessionId_createdAt_idx" ON "Invoice"("sessionId", "createdAt");

-- CreateIndex
CREATE INDEX "SessionRequest_sessionId_createdAt_idx" ON "SessionRequest"("sessionId", "createdAt");
