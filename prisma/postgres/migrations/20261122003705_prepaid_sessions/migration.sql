-- CreateEnum
CREATE TYPE "InvoiceKind" AS ENUM ('DEPOSIT', 'TOPUP');

-- CreateEnum
CREATE TYPE "InvoiceState" AS ENUM ('PENDING', 'PAID', 'EXPIRED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "SessionRequestStatus" AS ENUM ('PENDING', 'COMPLETED', 'REJECTED', 'FAILED');

-- CreateTable
CREATE TABLE "Invoice" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "kind" "InvoiceKind" NOT NULL,
    "amountSats" INTEGER NOT NULL,
    "memo" TEXT NOT NULL,
    "paymentRequest" TEXT NOT NULL,
    "paymentHash" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "state" "InvoiceState" NOT NULL DEFAULT 'PENDING',
    "pendingKey" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paidAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Invoice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SessionRequest" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "status" "SessionRequestStatus" NOT NULL DEFAULT 'PENDING',
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
    "btcUsd" DOUBLE PRECISION,
    "breakdown" JSONB,
    "reason" TEXT,
    "error" TEXT,
    "messageId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "SessionRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FreePool" (
    "id" TEXT NOT NULL,
    "capacitySats" INTEGER NOT NULL,
    "remainingSats" INTEGER NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "FreePool_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "Invoice" ADD CONSTRAINT "Invoice_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "Session"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SessionRequest" ADD CONSTRAINT "SessionRequest_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "Session"("id") ON DELETE CASCADE ON UPDATE CASCADE;
