# The install's one bucket (install.md "Install shape"): namespace snapshots, search history,
# clickstream events and, under payloads/, the operator's large Temporal payloads. Versioned,
# encrypted, closed to the public, TLS only; history and clickstream expire, old versions too.

locals {
  sse_algorithm = var.kms_key_arn == "" ? "AES256" : "aws:kms"
}

resource "aws_s3_bucket" "this" {
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name_prefix}-" : null
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse_algorithm
      kms_master_key_id = var.kms_key_arn == "" ? null : var.kms_key_arn
    }
    # With SSE-KMS, one data key per bucket instead of per object: far fewer KMS calls.
    bucket_key_enabled = var.kms_key_arn != ""
  }
}

# AWS-only features: S3-compatible stores (the MinIO of `npm run check:terraform`) lack these
# APIs, so the check turns them off; on AWS they stay on.
resource "aws_s3_bucket_public_access_block" "this" {
  count  = var.aws_only_features ? 1 : 0
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count  = var.aws_only_features ? 1 : 0
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "history"
    status = "Enabled"
    filter {
      prefix = var.history_prefix
    }
    expiration {
      days = var.history_expiration_days
    }
  }

  rule {
    id     = "clickstream"
    status = "Enabled"
    filter {
      prefix = var.clickstream_prefix
    }
    expiration {
      days = var.clickstream_expiration_days
    }
  }

  rule {
    id     = "noncurrent-versions-and-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_expiration_days
    }
    # MinIO drops this action (it stores only what it implements), which would read back as drift.
    dynamic "abort_incomplete_multipart_upload" {
      for_each = var.aws_only_features ? [7] : []
      content {
        days_after_initiation = abort_incomplete_multipart_upload.value
      }
    }
  }

  # Versioning first: a lifecycle with noncurrent rules on an unversioned bucket is a no-op.
  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  # Putting a policy while the public access block is being created races on AWS.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
