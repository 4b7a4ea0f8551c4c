//! Turning uploaded bytes into pixels, refusing what is too big before decoding it fully, and
//! turning phone photos upright by their EXIF orientation.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

/// Largest upload accepted, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;
/// Largest side of an image accepted, in pixels.
pub const MAX_SIDE: u32 = 4096;

/// Why an upload cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// No bytes at all.
    Empty,
    /// More than [`MAX_UPLOAD_BYTES`].
    TooLarge,
    /// Wider or taller than [`MAX_SIDE`].
    TooManyPixels,
    /// Not a JPEG, PNG or WebP image, or a broken one.
    NotAnImage,
}

/// Checks what can be checked without decoding the pixels: size, format, dimensions.
pub fn check_header(bytes: &[u8]) -> Result<(), DecodeError> {
    reader(bytes)?;
    Ok(())
}

fn reader(bytes: &[u8]) -> Result<Box<dyn ImageDecoder + '_>, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(DecodeError::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| DecodeError::NotAnImage)?;
    let supported = matches!(
        reader.format(),
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP)
    );
    if !supported {
        return Err(DecodeError::NotAnImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => DecodeError::TooManyPixels,
        _ => DecodeError::NotAnImage,
    })?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(DecodeError::TooManyPixels);
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::NotAnImage);
    }
    Ok(Box::new(decoder))
}

/// Decodes a JPEG, PNG or WebP image into upright RGB pixels. The size in bytes and the
/// dimensions in the header are checked before the pixels are decoded.
pub fn decode_upright(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    let mut decoder = reader(bytes)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => DecodeError::TooManyPixels,
        _ => DecodeError::NotAnImage,
    })?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}
