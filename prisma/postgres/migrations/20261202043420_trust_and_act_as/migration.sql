-- AlterTable
ALTER TABLE "RoomMessage" ADD COLUMN     "viaApiKeyId" TEXT;

-- CreateTable
CREATE TABLE "UserTrust" (
    "userId" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UserTrust_pkey" PRIMARY KEY ("userId")
);

-- AddForeignKey
ALTER TABLE "UserTrust" ADD CONSTRAINT "UserTrust_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
