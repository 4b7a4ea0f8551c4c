// Shows the photo a student chose on the check-in form before it is sent. The form works
// without this script; it only adds the preview.
for (const input of document.querySelectorAll('input[data-preview]')) {
  const img = document.getElementById(input.dataset.preview);
  let url = null;
  input.addEventListener('change', () => {
    if (url) URL.revokeObjectURL(url);
    const file = input.files && input.files[0];
    url = file ? URL.createObjectURL(file) : null;
    if (url) img.src = url;
    img.hidden = !url;
  });
}
