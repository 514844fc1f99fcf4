output "bucket_name" {
  # .bucket rather than .id: known at plan time when bucket_name is given.
  value = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  value = aws_s3_bucket.this.arn
}

output "bucket_region" {
  value = aws_s3_bucket.this.region
}
