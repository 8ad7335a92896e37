-- CreateTable
CREATE TABLE "NostrChallengeUse" (
    "challengeHash" TEXT NOT NULL,
    "pubkey" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NostrChallengeUse_pkey" PRIMARY KEY ("challengeHash")
);

-- CreateIndex
CREATE INDEX "NostrChallengeUse_expiresAt_idx" ON "NostrChallengeUse"("expiresAt");
